import assert from "node:assert/strict";
import { Evaluator } from "../../console/_evaluator.ts";
import { ConsoleSession } from "../../console/_session.ts";

/** Evaluates `source` and returns its value. */
async function run(ev: Evaluator, source: string): Promise<unknown> {
  return (await ev.evaluate(source)).value;
}

function evaluator(...layers: object[]): Evaluator {
  return new Evaluator(layers);
}

Deno.test("let and const persist between inputs", async () => {
  const ev = evaluator();
  assert.equal(await run(ev, "let x = 2"), undefined);
  assert.equal(await run(ev, "x * 21"), 42);
  await run(ev, "const y = x + 1");
  assert.equal(await run(ev, "y"), 3);
  assert.equal(await run(ev, "x = 10; x"), 10);
  assert.deepEqual(Object.keys(ev.bindings).sort(), ["x", "y"]);
});

Deno.test("a const cannot be assigned on a later input, but can be redeclared", async () => {
  const ev = evaluator();
  await run(ev, "const k = 1");
  await assert.rejects(
    ev.evaluate("k = 2"),
    (error: Error) =>
      error instanceof TypeError &&
      error.message === "Assignment to constant variable.",
  );
  assert.equal(await run(ev, "k"), 1);
  await run(ev, "const k = 5");
  assert.equal(await run(ev, "k"), 5);
  await run(ev, "let k = 6");
  await run(ev, "k = 7");
  assert.equal(await run(ev, "k"), 7);
});

Deno.test("destructuring declarations bind every name", async () => {
  const ev = evaluator();
  await run(
    ev,
    "const { a, b: [c, , d = 4], ...rest } = { a: 1, b: [2, 3], e: 5 }",
  );
  assert.deepEqual(await run(ev, "[a, c, d, rest]"), [1, 2, 4, { e: 5 }]);
  await run(ev, "let [p, q] = [1, 2], r = p + q");
  assert.equal(await run(ev, "r"), 3);
});

Deno.test("functions and classes persist, and closures see the session's bindings", async () => {
  const ev = evaluator();
  await run(ev, "let base = 1");
  await run(ev, "function f() { return base + 1 }");
  assert.equal(await run(ev, "f()"), 2);
  await run(ev, "base = 41");
  assert.equal(await run(ev, "f()"), 42);
  await run(ev, "class Point { constructor(x) { this.x = x } }");
  assert.equal(await run(ev, "new Point(7).x"), 7);
  await run(ev, "async function later() { await null; return 'later' }");
  assert.equal(await run(ev, "await later()"), "later");
  // A function declared after its use in the same input is hoisted.
  assert.equal(
    await run(ev, "g() + 1; function g() { return 1 }"),
    undefined,
  );
  assert.equal(await run(ev, "g()"), 1);
});

Deno.test("top-level await and the value of the last expression", async () => {
  const ev = evaluator();
  assert.equal(await run(ev, "await Promise.resolve(5)"), 5);
  assert.equal(await run(ev, "1; 2; 3"), 3);
  assert.equal(await run(ev, "let t = 1;\nt + 1;"), 2);
  assert.equal(await run(ev, "if (true) { 'block' }"), undefined);
  assert.deepEqual(await run(ev, "{ a: 1, b: 2 }"), { a: 1, b: 2 });
  assert.equal(await run(ev, "/ab+c/.test('abbc')"), true);
  assert.equal(await run(ev, "`t${1 + 1}`"), "t2");
  // A promise is a value to show, not awaited behind the user's back.
  const { value: promise } = await ev.evaluate("Promise.resolve(1)");
  assert.ok(promise instanceof Promise);
  // A line starting with ( continues the previous one, as in JavaScript.
  await assert.rejects(ev.evaluate("t\n(1)"), TypeError);
});

Deno.test("the layers are read-only defaults that the session can shadow", async () => {
  const api = { answer: 42 };
  const ev = evaluator({ helper: "h" }, api);
  assert.equal(await run(ev, "answer + helper"), "42h");
  await run(ev, "answer = 1");
  assert.equal(await run(ev, "answer"), 1);
  assert.equal(api.answer, 42);
  // Unknown names still fall through to globals.
  assert.equal(await run(ev, "typeof Deno.pid"), "number");
  assert.equal(await run(ev, "typeof notDefinedAnywhere"), "undefined");
  await assert.rejects(ev.evaluate("notDefinedAnywhere + 1"), ReferenceError);
});

Deno.test("two evaluators do not share declarations", async () => {
  const one = evaluator();
  const two = evaluator();
  await run(one, "let shared = 'one'");
  await run(two, "let shared = 'two'");
  assert.equal(await run(one, "shared"), "one");
  assert.equal(await run(two, "shared"), "two");
});

Deno.test("static and dynamic imports work, relative to the working directory", async () => {
  const ev = evaluator();
  await run(ev, "import * as path from 'node:path'");
  assert.equal(await run(ev, "path.basename('/a/b.txt')"), "b.txt");
  await run(ev, "import { join as j, sep } from 'node:path'");
  assert.equal(await run(ev, "j('a', 'b') === 'a' + sep + 'b'"), true);
  // Relative specifiers resolve against the working directory (not
  // against the console's own files); no chdir, tests may run in parallel.
  const dir = await Deno.makeTempDir({
    dir: Deno.cwd(),
    prefix: ".h7-import-",
  });
  const relative = `./${dir.slice(Deno.cwd().length + 1)}/m.js`;
  try {
    await Deno.writeTextFile(
      `${dir}/m.js`,
      "export default 'dflt'; export const v = 7;",
    );
    await run(ev, `import d, { v } from '${relative}'`);
    assert.deepEqual(await run(ev, "[d, v]"), ["dflt", 7]);
    assert.equal(await run(ev, `(await import('${relative}')).v`), 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("incomplete inputs are told apart from wrong ones", () => {
  const ev = evaluator();
  for (
    const source of [
      "function f() {",
      "foo(",
      "[1,",
      "1 +",
      "`abc",
      "x = `a${",
      "/* comment",
      "if (x)",
      "let s = 'a\\",
      "x =>",
    ]
  ) {
    assert.equal(ev.isIncomplete(source), true, source);
  }
  for (
    const source of ["1 + 2", "foo(1 2)", "}", "let x = ;", "f() {}", "'abc"]
  ) {
    assert.equal(ev.isIncomplete(source), false, source);
  }
});

Deno.test("a session collects lines until the input is complete", async () => {
  const session = new ConsoleSession([{ base: 40 }], false, () => {});
  assert.equal(session.prompt, "> ");
  assert.equal(session.push("function add(a, b) {"), undefined);
  assert.equal(session.prompt, "... ");
  assert.equal(session.push("  return a + b + base"), undefined);
  const source = session.push("}");
  assert.equal(source, "function add(a, b) {\n  return a + b + base\n}");
  assert.equal(session.prompt, "> ");
  assert.deepEqual(await session.run(source!), {
    text: "undefined\n",
    failed: false,
  });
  assert.deepEqual(await session.run("add(1, 1)"), {
    text: "42\n",
    failed: false,
  });
  assert.deepEqual(await session.run("'text'"), {
    text: '"text"\n',
    failed: false,
  });
  // .break abandons an incomplete input.
  assert.equal(session.push("[1,"), undefined);
  assert.equal(session.push(".break"), undefined);
  assert.equal(session.prompt, "> ");
});

Deno.test("errors are reported with the input's stack, without the console's frames", async () => {
  const rejections: unknown[] = [];
  const session = new ConsoleSession([], false, (e) => rejections.push(e));
  const result = await session.run("let z = 1\nthrow new Error('boom')");
  assert.equal(result.failed, true);
  const lines = result.text.trimEnd().split("\n");
  assert.equal(lines[0], "Uncaught Error: boom");
  assert.match(lines[1], /at .*input-\d+:2:7/);
  assert.equal(lines.length, 2, result.text);
  // Positions are those of the input, also in a returned last expression.
  const late = await session.run("1;\n  notAFunction()");
  assert.match(
    late.text,
    /^Uncaught ReferenceError: notAFunction is not defined\n {4}at .*input-\d+:2:3\)?\n$/,
  );
  const syntax = await session.run("let = = 1");
  assert.equal(syntax.failed, true);
  assert.match(syntax.text, /^Uncaught SyntaxError: /);
  const thrown = await session.run("throw 'plain'");
  assert.equal(thrown.text, 'Uncaught "plain"\n');
  // A promise shown as a value is handled: its rejection is reported.
  const shown = await session.run(
    "new Promise((_, reject) => setTimeout(() => reject('later'), 1))",
  );
  assert.equal(shown.text, "Promise { <pending> }\n");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(rejections, ["later"]);
});

Deno.test("tab completion offers names and properties without running code", async () => {
  const { completeName } = await import("../../console/_complete.ts");
  const bindings: Record<string, unknown> = Object.create(null);
  let getterRan = false;
  bindings.session = {
    alpha: 1,
    get alphabet() {
      getterRan = true;
      return 2;
    },
  };
  // Globals count too (sessionStorage).
  assert.deepEqual(completeName("sess", bindings, [{ spawn: 1 }]), [
    ["session", "sessionStorage"],
    "sess",
  ]);
  assert.deepEqual(completeName("1 + sp", bindings, [{ spawn: 1 }]), [
    ["spawn"],
    "sp",
  ]);
  assert.deepEqual(completeName("session.alp", bindings, []), [
    ["alpha", "alphabet"],
    "alp",
  ]);
  assert.equal(getterRan, false);
  assert.ok(completeName("Deno.pi", bindings, [])[0].includes("pid"));
});
