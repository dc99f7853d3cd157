// Tab completion of names and properties for the console.

/**
 * Completes the identifier, or `name.property`, at the end of `line` from
 * the session's bindings, its layers and the globals. Returns candidates and
 * the text they complete, as `node:readline`'s completer does.
 */
export function completeName(
  line: string,
  bindings: Record<string, unknown>,
  layers: readonly object[],
): [string[], string] {
  const match =
    /([\p{ID_Start}$_][\p{ID_Continue}$]*\.)?([\p{ID_Continue}$]*)$/u
      .exec(line);
  if (match === null) return [[], ""];
  const [, owner, prefix] = match;
  const names = new Set<string>();
  if (owner === undefined) {
    for (const source of [bindings, ...layers, globalThis]) {
      for (const name of Object.getOwnPropertyNames(source)) names.add(name);
    }
  } else {
    const key = owner.slice(0, -1);
    const holder = [bindings, ...layers].find((layer) =>
      Object.hasOwn(layer, key)
    ) ?? globalThis;
    const value = (holder as Record<string, unknown>)[key];
    // Property names only: no getter runs.
    for (
      let object: unknown = value;
      object !== null && object !== undefined;
      object = Object.getPrototypeOf(object)
    ) {
      if (typeof object !== "object" && typeof object !== "function") {
        object = Object(object);
      }
      for (const name of Object.getOwnPropertyNames(object)) names.add(name);
    }
  }
  const hits = [...names].filter((name) =>
    name.startsWith(prefix) &&
    /^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(name)
  ).sort();
  return [hits, prefix];
}
