/** The start-up floor: a compiled Bun program that prints one line and exits. */
console.log("hello");
