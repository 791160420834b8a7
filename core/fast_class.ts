/**
 * Puts class constructors back into V8's fast-property mode. On Node through tsx, esbuild's
 * `keepNames` redefines each class's `name` (`Object.defineProperty(C, "name", ...)`), which on
 * V8 11.3 (Node 20) turns the constructor into a dictionary-mode object. TurboFan cannot then
 * inline an `instanceof C` (nor `Object.getPrototypeOf(C)`): each one calls the generic
 * InstanceOf builtin, which looks `Symbol.hasInstance` up the constructor's dictionary, about
 * 30 ns where a map check costs 1-2 ns, and the reply path runs a few per command. A `for...in`
 * over an object whose prototype is the constructor makes V8 turn its prototype chain fast again
 * (it builds an enumeration cache). Elsewhere (Deno, a tsc build) the constructors are fast
 * already and this changes nothing; it never changes behaviour.
 *
 * @module
 */

/**
 * Makes each constructor's properties fast again (see the module doc). Call it once, after the
 * classes are defined, for classes tested with `instanceof` on hot paths.
 *
 * @param classes the class constructors
 */
// deno-lint-ignore ban-types
export function fastClasses(classes: readonly Function[]): void {
  for (const c of classes) {
    // deno-lint-ignore no-unused-vars
    for (const key in Object.create(c)) break;
  }
}
