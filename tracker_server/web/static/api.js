// The JSON API client: the token (from the login screen) is kept in sessionStorage only, sent as
// an Authorization header, never put in a URL. Non-finite numbers arrive as "NaN", "Infinity" and
// "-Infinity" strings; num() / nums() turn them back into numbers.

const TOKEN_KEY = "tracker.token";

export class AuthError extends Error {}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** GET /api/<path> with query parameters (arrays repeat the parameter); the parsed JSON. */
export async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v));
  }
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const url = `/api/${path}${query.size ? `?${query}` : ""}`;
  const response = await fetch(url, { headers, cache: "no-store" });
  if (response.status === 401) throw new AuthError((await response.json()).error);
  if (!response.ok) {
    let message = response.statusText;
    try {
      const body = await response.json();
      message = body.error || JSON.stringify(body.detail || body);
    } catch (_) {
      /* not JSON */
    }
    throw new ApiError(response.status, message);
  }
  return response.json();
}

export function num(value) {
  return typeof value === "string" ? Number(value) : value;
}

export function nums(values) {
  return values.map(num);
}
