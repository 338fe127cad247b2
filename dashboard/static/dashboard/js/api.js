// Same-origin calls to the API with the session cookie and the CSRF token from its cookie.
//
// Every API error has one shape: {"status": "error", "code", "message", "errors": {field: [..]}}.
// A fetch that throws (server down, network gone) becomes a NetworkError, so callers can
// tell "the server said no" from "there is no server".

export const UNREACHABLE_MESSAGE = "Cannot reach the server. Check your connection and try again.";

export class ApiError extends Error {
  constructor({ status, code = "error", message, errors = {}, body = null }) {
    super(message || `The server answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.errors = errors || {};
    this.body = body;
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super(UNREACHABLE_MESSAGE);
    this.name = "NetworkError";
    this.cause = cause;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

// Tell the page whether the server answers, so it can show or hide one banner.
function reportReachable(reachable) {
  window.dispatchEvent(new CustomEvent(reachable ? "api:reachable" : "api:unreachable"));
}

async function parseBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: `The server answered ${response.status} ${response.statusText}.`.trim() };
  }
}

function retryAfterNote(response) {
  const seconds = Number(response.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? ` Try again in ${seconds} s.` : "";
}

/**
 * Call the API. Resolves with {status, body} for 2xx answers and for the statuses listed in
 * `expect` (e.g. the result endpoint's 409 and 410); rejects with ApiError or NetworkError.
 */
export async function request(method, url, { body, expect = [] } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = cookie("csrftoken");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    reportReachable(false);
    throw new NetworkError(error);
  }
  reportReachable(true);
  const data = await parseBody(response);
  if (response.ok || expect.includes(response.status)) {
    return { status: response.status, body: data, headers: response.headers };
  }
  const error = new ApiError({
    status: response.status,
    code: data?.code,
    message: (data?.message || data?.detail || "") + (response.status === 429 ? retryAfterNote(response) : ""),
    errors: data?.errors,
    body: data,
  });
  if (response.status === 401 || (response.status === 403 && error.code === "not_authenticated")) {
    window.dispatchEvent(new CustomEvent("api:unauthenticated"));
  }
  throw error;
}

export const get = (url, options) => request("GET", url, options);
export const post = (url, body, options) => request("POST", url, { ...options, body });
export const del = (url, options) => request("DELETE", url, options);

/**
 * GETs of one list that may overlap (a refresh on load, another when the socket opens, one
 * per update): their answers can arrive out of order, and an older one must not replace a
 * newer one already shown. `get` resolves to null for such a late answer (or late error).
 */
export class LatestAnswer {
  constructor(url) {
    this.url = url;
    this.asked = 0;
    this.shown = 0;
  }

  async get() {
    const asked = ++this.asked;
    let answer;
    try {
      answer = await get(this.url);
    } catch (error) {
      if (asked < this.shown) return null;
      throw error;
    }
    if (asked < this.shown) return null;
    this.shown = asked;
    return answer;
  }
}
