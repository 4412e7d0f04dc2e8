// The supervisor API as JSON (gRPC JSON transcoding under /api/v1), with the token of this tab.

const TokenKey = "contactgrains.console.token";

/** A refused or failed call, with what a person should read. */
export class ApiError extends Error {
  constructor(kind, status, message) {
    super(message);
    this.kind = kind; // "unauthorized", "forbidden", "unreachable", "refused"
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TokenKey);
}

export function saveToken(value) {
  sessionStorage.setItem(TokenKey, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TokenKey);
}

/** The token's claims (not verified here: the silo verifies every call), or null if it is not a JWT. */
export function claims(value) {
  const parts = (value || "").split(".");
  if (parts.length !== 3) {
    return null;
  }
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

async function call(method, path, body, bearer = token()) {
  const headers = { Accept: "application/json" };
  if (bearer) {
    headers.Authorization = `Bearer ${bearer}`;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch {
    throw new ApiError("unreachable", 0, "The silo is unreachable: check that it is running and that this page's address is its console address.");
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.ok) {
    return json;
  }
  const serverMessage = json && typeof json.message === "string" ? json.message : "";
  if (response.status === 401) {
    throw new ApiError("unauthorized", 401, `The silo refused the token: ${serverMessage || "it is invalid or expired."}`);
  }
  if (response.status === 403) {
    throw new ApiError("forbidden", 403, `${serverMessage || "This token lacks the supervisor role."} The console needs a supervisor's token.`);
  }
  if (response.status >= 500 && !serverMessage) {
    throw new ApiError("unreachable", response.status, `The silo answered ${response.status}: it may be starting or stopping.`);
  }
  throw new ApiError("refused", response.status, serverMessage || `The silo refused the request (HTTP ${response.status}).`);
}

const enc = encodeURIComponent;

export const api = {
  floor: (bearer) => call("GET", "/api/v1/floor", undefined, bearer),
  queueHistory: (queue, hours = 24) => call("GET", `/api/v1/queues/${enc(queue)}/history?hours=${hours}`),
  conversations: (owner, maxResults = 100) =>
    call("GET", `/api/v1/conversations?maxResults=${maxResults}${owner ? `&owner=${enc(owner)}` : ""}`),
  conversation: (id) => call("GET", `/api/v1/conversations/${enc(id)}`),
  takeOver: (id, reason) => call("POST", `/api/v1/conversations/${enc(id)}/take-over`, { reason }),
  sendToQueue: (id, skill, language, reason) =>
    call("POST", `/api/v1/conversations/${enc(id)}/send-to-queue`, { queue: { skill, language }, reason }),
  automation: () => call("GET", "/api/v1/automation"),
  setLevel: (intent, level, reason) => call("POST", `/api/v1/automation/intents/${enc(intent)}/level`, { level, reason }),
  intentHistory: (intent) => call("GET", `/api/v1/automation/intents/${enc(intent)}/history`),
  reviews: (includeDecided) => call("GET", `/api/v1/reviews?includeDecided=${includeDecided ? "true" : "false"}&maxResults=500`),
  recordReview: (id, verdict, note) => call("POST", `/api/v1/reviews/${enc(id)}`, { verdict, note }),
};
