// Small helpers: building DOM without innerHTML (the API's text is never parsed as HTML), and
// times as a person on the floor reads them.

/** h("td", { class: "num", dataset: { queue: "x" } }, "text", child, ...) */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "class") {
      element.className = value;
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(element, child);
    } else {
      element.append(child instanceof Node ? child : String(child));
    }
  }
}

/** Replaces what <paramref name="element"/> holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** "2m 05s", "45s", "1h 02m". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  }
  const hours = Math.floor(s / 3600);
  return `${hours}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "just now", "4 min ago", "3 h ago", "2 days ago". */
export function relative(timestamp, now = Date.now()) {
  if (!timestamp) {
    return "";
  }
  const seconds = Math.round((now - Date.parse(timestamp)) / 1000);
  if (seconds < 10) {
    return "just now";
  }
  if (seconds < 60) {
    return `${seconds} s ago`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)} h ago`;
  }
  const days = Math.floor(seconds / 86400);
  return `${days} day${days === 1 ? "" : "s"} ago`;
}

/** Seconds since <paramref name="timestamp"/>. */
export function since(timestamp, now = Date.now()) {
  return timestamp ? Math.max(0, (now - Date.parse(timestamp)) / 1000) : 0;
}

/** Local date and time, for tooltips and audits. */
export function absolute(timestamp) {
  if (!timestamp) {
    return "";
  }
  return new Date(timestamp).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function clock(timestamp) {
  return timestamp ? new Date(timestamp).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) : "";
}

/** A <time> that reads "4 min ago" and tells the exact time on hover. */
export function ago(timestamp) {
  return h("time", { datetime: timestamp, title: absolute(timestamp) }, relative(timestamp));
}

/** 0.873 → "87%"; absent → "–". */
export function percent(value) {
  return value === undefined || value === null ? "–" : `${Math.round(value * 100)}%`;
}

export function rating(value) {
  return value === undefined || value === null ? "–" : value.toFixed(2);
}

const EnumWords = {
  OWNER_KIND_BOT: "Bot",
  OWNER_KIND_QUEUE: "Queue",
  OWNER_KIND_AGENT: "Agent",
  OWNER_KIND_NOBODY: "Nobody",
  OWNER_KIND_UNSPECIFIED: "–",
  AUTOMATION_LEVEL_HUMAN_ONLY: "Human only",
  AUTOMATION_LEVEL_COPILOT: "Copilot",
  AUTOMATION_LEVEL_SUPERVISED: "Supervised",
  AUTOMATION_LEVEL_AUTONOMOUS: "Autonomous",
  AUTOMATION_LEVEL_UNSPECIFIED: "–",
  PRESENCE_AVAILABLE: "Available",
  PRESENCE_AWAY: "Away",
  PRESENCE_OFFLINE: "Offline",
  PRESENCE_UNSPECIFIED: "Unknown",
  REVIEW_VERDICT_APPROVED: "Approved",
  REVIEW_VERDICT_REJECTED: "Rejected",
  REVIEW_VERDICT_UNSPECIFIED: "Waiting",
};

export function words(value) {
  return EnumWords[value] || value || "–";
}

/** "OWNER_KIND_QUEUE" → "queue": a CSS class for badges. */
export function slug(value) {
  return (value || "").replace(/^(OWNER_KIND|AUTOMATION_LEVEL|PRESENCE|REVIEW_VERDICT)_/, "").toLowerCase() || "unspecified";
}

/** An owner as people say it: "the bot", "queue billing:en", "agent sam". */
export function ownerText(owner) {
  if (!owner) {
    return "–";
  }
  switch (owner.kind) {
    case "OWNER_KIND_BOT":
      return "Bot";
    case "OWNER_KIND_QUEUE":
      return `Queue ${owner.id || ""}`.trim();
    case "OWNER_KIND_AGENT":
      return `Agent ${owner.id || ""}`.trim();
    case "OWNER_KIND_NOBODY":
      return "Nobody";
    default:
      return "–";
  }
}

export function badge(value, text = words(value)) {
  return h("span", { class: `badge ${slug(value)}` }, text);
}
