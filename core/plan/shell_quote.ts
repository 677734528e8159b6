/**
 * Template values substituted into shell code (the shell module's `cmd`)
 * are quoted for POSIX sh, as GNU parallel quotes its replacement strings:
 * a file named `a;touch PWNED;.csv` reaches the command as one word, byte for
 * byte, and runs nothing.
 *
 * Single quotes are only right where the shell reads a bare word. Inside
 * '…' or "…" the user's own quotes would undo ours, inside `…` backslashes
 * are read twice, in a comment a newline ends the comment, and a
 * here-document body is not split into words at all: a reference in any of
 * those places is a load error (see `shellPlaces`), never a guess.
 */

/** Characters no sh reads specially in any position of a word. */
const SAFE = /^[A-Za-z0-9_./:,@%+-]+$/;

/** `it's` → `'it'\''s'`; a word of safe characters stays as it is. */
export function shellQuote(text: string): string {
  if (SAFE.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Where the shell reads a position of the text. */
export type ShellPlace = "word" | "single" | "double" | "backtick" | "comment" | "heredoc" | "glued";

type Frame = { kind: "word" | "subst" | "double" | "backtick"; parens: number };

/**
 * The place of each reference span (sorted by start) in `text`, reading it
 * as sh does: quotes, `$( )` (a bare-word place again, even inside "…"),
 * backticks, comments and here-documents. A span is read as word characters.
 */
export function shellPlaces(text: string, spans: readonly { start: number; length: number }[]): ShellPlace[] {
  const places: ShellPlace[] = [];
  const stack: Frame[] = [{ kind: "word", parens: 0 }];
  let heredoc = false;
  let wordStart = true;
  const place = (p: ShellPlace) => places.push(heredoc ? "heredoc" : p);
  /** Places every span that starts before `stop` as `p` (they sit inside a quote or a comment). */
  const placeUntil = (stop: number, p: ShellPlace) => {
    while (places.length < spans.length && spans[places.length]!.start < stop) place(p);
  };
  for (let i = 0; i < text.length && places.length < spans.length; i++) {
    const top = stack[stack.length - 1]!;
    const span = spans[places.length]!;
    if (i >= span.start) {
      place(top.kind === "subst" ? "word" : top.kind);
      i = span.start + span.length - 1;
      wordStart = false;
      continue;
    }
    const c = text[i]!;
    // "\{{ x }}" or "${{ x }}" would escape or re-read the quote that opens the value.
    if ((c === "\\" || c === "$") && i + 1 === span.start) {
      place("glued");
      i = span.start + span.length - 1;
      wordStart = false;
      continue;
    }
    if (c === "\\") {
      i++;
      wordStart = false;
    } else if (top.kind === "double") {
      if (c === '"') stack.pop();
      else if (c === "$" && text[i + 1] === "(") (stack.push({ kind: "subst", parens: 0 }), i++);
      else if (c === "`") stack.push({ kind: "backtick", parens: 0 });
    } else {
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        i = end < 0 ? text.length : end;
        placeUntil(i, "single");
      } else if (c === "#" && wordStart) {
        const end = text.indexOf("\n", i);
        placeUntil(end < 0 ? text.length : end, "comment");
        i = (end < 0 ? text.length : end) - 1;
      } else if (c === '"') stack.push({ kind: "double", parens: 0 });
      else if (c === "`") {
        if (top.kind === "backtick") stack.pop();
        else stack.push({ kind: "backtick", parens: 0 });
      } else if (c === "$" && text[i + 1] === "(") (stack.push({ kind: "subst", parens: 0 }), i++);
      else if (c === "(") top.parens++;
      else if (c === ")") {
        if (top.parens > 0) top.parens--;
        else if (top.kind === "subst") stack.pop();
      } else if (c === "<" && text[i + 1] === "<") heredoc = true;
      wordStart = /[\s;&|()<>]/.test(c);
    }
  }
  return places;
}

/** Why a reference at `place` cannot be quoted for the shell, or undefined where it can. */
export function shellPlaceProblem(place: ShellPlace): string | undefined {
  switch (place) {
    case "word":
      return undefined;
    case "single":
    case "double":
      return "stands inside quotes in shell code, where the quotes fanout adds around a value would be undone: remove the quotes around it (the value arrives as one word, byte for byte)";
    case "backtick":
      return "stands inside `…` in shell code, where quoting is read twice: write $( … ) instead";
    case "comment":
      return "stands inside a shell comment, which a value holding a newline would end: move it out of the comment";
    case "heredoc":
      return "follows a here-document (<<) in shell code, where a value cannot be quoted: pass it through env: instead";
    case "glued":
      return "directly follows \\ or $ in shell code, which would change how its quotes are read: separate them";
  }
}
