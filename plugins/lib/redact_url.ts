/**
 * Keeping a URL's secrets out of errors: credentials and query strings often
 * carry tokens, and error text ends up in logs and CI output. Runtimes put
 * the whole URL into their own error messages (Deno: "error sending request
 * for url (https://…?token=…)"), so text from them is scrubbed too.
 */

/** The URL without credentials, query string or fragment: `https://host:8080/path?…`. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? "?…" : ""}`;
}

// Anything shaped like scheme://…, up to a space, a quote or a bracket.
const URL_LIKE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()[\]{}]+/gi;

/** Shorter than this, a literal "secret" is more likely ordinary text than a token. */
const MIN_SECRET = 4;

/**
 * `text` with every URL in it redacted, and any literal occurrence of
 * `url`'s password or query string (raw or percent-decoded) replaced by "…".
 */
export function scrubUrlSecrets(text: string, url: URL): string {
  let out = text.replace(URL_LIKE, (found) => {
    try {
      return redactUrl(new URL(found));
    } catch {
      return "…";
    }
  });
  const secrets = [url.password, url.search.slice(1)].flatMap((s) => [s, safeDecode(s)]);
  for (const secret of secrets) if (secret.length >= MIN_SECRET) out = out.replaceAll(secret, "…");
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The messages of a fetch error and its causes (Deno puts the useful part in
 * the cause: "fetch failed" ← "error sending request for url (…): …"),
 * joined and scrubbed of `url`'s secrets.
 */
export function fetchErrorText(error: unknown, url: URL): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e !== undefined; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return scrubUrlSecrets(parts.join(": "), url);
}
