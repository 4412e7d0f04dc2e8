// The supervisor console: sign-in, then four screens (floor, conversations, automation, reviews)
// on the supervisor API. The screen shown is polled; nothing else is fetched in the background.

import { api, ApiError, token, saveToken, forgetToken, claims } from "./api.js";
import {
  h, fill, duration, relative, since, absolute, clock, ago, percent, rating, words, slug, ownerText, badge,
} from "./format.js";
import { queueHistoryChart, intentRatingChart } from "./charts.js";

// The console's own service-level target: the API reports the level, not a goal (80% is the usual
// contact-centre goal for answers within the queue's threshold).
const ServiceLevelTarget = 0.8;
const PollMilliseconds = 3000;
const HistoryRefreshMilliseconds = 60000;
const Levels = ["AUTOMATION_LEVEL_HUMAN_ONLY", "AUTOMATION_LEVEL_COPILOT", "AUTOMATION_LEVEL_SUPERVISED", "AUTOMATION_LEVEL_AUTONOMOUS"];
const LevelMeaning = {
  AUTOMATION_LEVEL_HUMAN_ONLY: "The bot never answers: the intent's conversations go to a queue at once.",
  AUTOMATION_LEVEL_COPILOT: "A human answers; the bot drafts a reply to each customer message for the agent.",
  AUTOMATION_LEVEL_SUPERVISED: "The bot answers; a share of its conversations is flagged for review.",
  AUTOMATION_LEVEL_AUTONOMOUS: "The bot answers on its own.",
};
const Screens = ["floor", "conversations", "automation", "reviews"];

const $ = (selector, root = document) => root.querySelector(selector);

const state = {
  screen: "floor",
  floor: null,
  selectedQueue: null,
  queueHistory: null,
  queueHistoryAt: 0,
  owner: "",
  conversations: null,
  selectedConversation: null,
  conversation: null,
  policy: null,
  selectedIntent: null,
  intentHistory: null,
  reviews: null,
  includeDecided: false,
  includeConfiguration: false,
  lastOk: 0,
  timer: 0,
  polling: false,
};

// ---------------------------------------------------------------- sign-in and session

function showSignIn(message = "") {
  clearTimeout(state.timer);
  state.timer = 0;
  $("[data-nav]").hidden = true;
  $("[data-session]").hidden = true;
  for (const screen of document.querySelectorAll("[data-screen]")) {
    screen.hidden = screen.dataset.screen !== "signin";
  }
  $("[data-signin-message]").textContent = message;
  $("[data-token-input]").focus();
}

function showApp() {
  const who = claims(token());
  $("[data-who]").textContent = who?.sub ? `Signed in as ${who.name || who.sub}` : "Signed in";
  $("[data-nav]").hidden = false;
  $("[data-session]").hidden = false;
  route();
}

async function signIn(event) {
  event.preventDefault();
  const value = $("[data-token-input]").value.trim().replace(/^Bearer\s+/i, "");
  const message = $("[data-signin-message]");
  const submit = $("[data-signin-submit]");
  if (!value) {
    message.textContent = "Paste a token first.";
    return;
  }
  submit.disabled = true;
  message.textContent = "";
  try {
    state.floor = await api.floor(value);
    saveToken(value);
    $("[data-token-input]").value = "";
    if (!location.hash) {
      history.replaceState(null, "", "#floor");
    }
    showApp();
  } catch (error) {
    message.textContent = error instanceof ApiError ? error.message : String(error);
  } finally {
    submit.disabled = false;
  }
}

function signOut(message = "") {
  forgetToken();
  Object.assign(state, { floor: null, conversations: null, conversation: null, policy: null, reviews: null, selectedConversation: null });
  showSignIn(message);
}

/** A refused token ends the session; anything else is shown where it happened and retried. */
function handleFailure(error, where) {
  if (error instanceof ApiError && (error.kind === "unauthorized" || error.kind === "forbidden")) {
    signOut(error.message);
    return;
  }
  const banner = $(`[data-error="${where}"]`);
  if (banner) {
    banner.textContent = error instanceof ApiError ? error.message : `Something went wrong: ${error}`;
    banner.hidden = false;
  }
  const live = $("[data-live]");
  live.textContent = error instanceof ApiError && error.kind === "unreachable" ? "Silo unreachable, retrying" : "Last update failed";
  live.classList.add("stale");
}

function succeeded(where) {
  const banner = $(`[data-error="${where}"]`);
  if (banner) {
    banner.hidden = true;
  }
  state.lastOk = Date.now();
  const live = $("[data-live]");
  live.textContent = `Live · ${new Date().toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`;
  live.classList.remove("stale");
}

// ---------------------------------------------------------------- routing and polling

function route() {
  if (!token()) {
    showSignIn();
    return;
  }
  const [screen, ...rest] = location.hash.replace(/^#/, "").split("/");
  state.screen = Screens.includes(screen) ? screen : "floor";
  if (state.screen === "conversations" && rest.length) {
    const id = decodeURIComponent(rest.join("/"));
    if (id !== state.selectedConversation) {
      state.selectedConversation = id;
      state.conversation = null;
    }
  }
  for (const section of document.querySelectorAll("[data-screen]")) {
    section.hidden = section.dataset.screen !== state.screen;
  }
  for (const tab of document.querySelectorAll("[data-tab]")) {
    if (tab.dataset.tab === state.screen) {
      tab.setAttribute("aria-current", "page");
    } else {
      tab.removeAttribute("aria-current");
    }
  }
  document.title = `${words(state.screen[0].toUpperCase() + state.screen.slice(1))} · ContactGrains supervisor`;
  renderCurrent();
  poll();
}

async function poll() {
  clearTimeout(state.timer);
  if (!token()) {
    return;
  }
  if (!state.polling) {
    state.polling = true;
    try {
      await refresh(state.screen);
      // The Reviews tab's count stays current from any screen, at a slower pace.
      state.ticks = (state.ticks || 0) + 1;
      if (state.screen !== "reviews" && state.ticks % 5 === 1) {
        await countReviews();
      }
    } finally {
      state.polling = false;
    }
  }
  if (token()) {
    state.timer = setTimeout(poll, PollMilliseconds);
  }
}

async function refresh(screen) {
  try {
    switch (screen) {
      case "floor":
        state.floor = await api.floor();
        if (state.selectedQueue && Date.now() - state.queueHistoryAt > HistoryRefreshMilliseconds) {
          await loadQueueHistory(state.selectedQueue);
        }
        break;
      case "conversations":
        state.conversations = await api.conversations(state.owner);
        if (state.selectedConversation) {
          try {
            state.conversation = await api.conversation(state.selectedConversation);
          } catch (error) {
            if (!(error instanceof ApiError) || error.kind !== "refused") {
              throw error;
            }
            state.conversation = { missing: error.message };
          }
        }
        break;
      case "automation":
        state.policy = await api.automation();
        break;
      case "reviews":
        state.reviews = await api.reviews(state.includeDecided);
        break;
    }
    succeeded(screen);
    if (screen === state.screen) {
      renderCurrent();
    }
  } catch (error) {
    handleFailure(error, screen);
  }
}

function renderCurrent() {
  withFocusKept(() => {
    switch (state.screen) {
      case "floor":
        renderFloor();
        break;
      case "conversations":
        renderConversations();
        break;
      case "automation":
        renderAutomation();
        break;
      case "reviews":
        renderReviews();
        break;
    }
  });
}

/** Re-rendering replaces rows; whoever was on a control (keyboard users) stays on its successor. */
function withFocusKept(render) {
  const key = document.activeElement?.dataset?.focusKey;
  render();
  if (key) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again && again !== document.activeElement) {
      again.focus();
    }
  }
}

// ---------------------------------------------------------------- floor

function tile(kind, label, value, data) {
  return h("div", { class: `tile ${kind}`, dataset: { count: data } },
    h("div", { class: "value" }, String(value)), h("div", { class: "label" }, label));
}

// What the demotion rule changed in the last day, with its evidence: supervisors decide whether to
// promote back (on the automation screen), so it is the first thing on the floor.
function renderDemotions(demotions) {
  const box = $("[data-demotions]");
  box.hidden = demotions.length === 0;
  fill(box, demotions.length === 0 ? [] : [
    h("h2", {}, `Automatic demotion${demotions.length > 1 ? "s" : ""} in the last 24 h`),
    h("ul", {}, demotions.map((change) => h("li", { "data-demotion": change.intent },
      h("a", { href: "#automation", class: "intent" }, change.intent), " ",
      badge(change.from), " → ", badge(change.to), " ", ago(change.time),
      h("p", { class: "evidence" }, change.reason)))),
  ]);
}

function renderFloor() {
  const floor = state.floor;
  if (!floor) {
    fill($("[data-queues]"), h("p", { class: "empty" }, "Loading the floor…"));
    return;
  }
  $("[data-floor-as-of]").textContent = floor.asOf ? `As of ${clock(floor.asOf)}` : "";
  const queues = floor.queues || [];
  const agents = floor.agents || [];
  const available = agents.filter((a) => a.connected && a.presence === "PRESENCE_AVAILABLE").length;
  const waiting = queues.reduce((sum, q) => sum + (q.waiting || 0), 0);
  fill($("[data-floor-counts]"),
    tile("bot", "With the bot", floor.withBot || 0, "with-bot"),
    tile("queue", `In queues${waiting ? "" : ""}`, floor.inQueues || 0, "in-queues"),
    tile("agent", "With agents", floor.withAgents || 0, "with-agents"),
    tile("people", "Agents available", `${available} / ${agents.length}`, "agents-available"));
  renderDemotions(floor.recentDemotions || []);

  if (queues.length === 0) {
    fill($("[data-queues]"), h("p", { class: "empty" }, "No queue is configured."));
  } else {
    fill($("[data-queues]"), h("table", { "aria-label": "Queues" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Queue"),
        h("th", { scope: "col", class: "num" }, "Waiting"),
        h("th", { scope: "col", class: "num" }, "Longest"),
        h("th", { scope: "col", class: "num" }, "Est. wait"),
        h("th", { scope: "col", class: "num", title: "Available / busy" }, "Agents"),
        h("th", { scope: "col", class: "num" }, "Service level"),
        h("th", { scope: "col", class: "num" }, "Answered"),
        h("th", { scope: "col", class: "num" }, "Abandoned"))),
      h("tbody", {}, queues.map(queueRow))));
  }

  if (agents.length === 0) {
    fill($("[data-agents]"), h("p", { class: "empty" }, "No agent is signed in."));
  } else {
    fill($("[data-agents]"), h("table", { "aria-label": "Agents" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Agent"),
        h("th", { scope: "col" }, "Presence"),
        h("th", { scope: "col" }, "Connection"),
        h("th", { scope: "col" }, "Load"),
        h("th", { scope: "col" }, "Idle since"),
        h("th", { scope: "col" }, "Queues"))),
      h("tbody", {}, agents.map(agentRow))));
  }
  renderQueueHistory();
}

function queueRow(queue) {
  const threshold = queue.serviceLevelThresholdSeconds || 0;
  const longest = queue.longestWaitSeconds || 0;
  const waiting = queue.waiting || 0;
  const waitClass = waiting > 0 && threshold && longest > threshold ? "cell-bad" : waiting > 0 && threshold && longest > threshold / 2 ? "cell-warn" : "";
  const hasLevel = typeof queue.serviceLevel === "number";
  const belowTarget = hasLevel && queue.serviceLevel < ServiceLevelTarget;
  const selected = state.selectedQueue === queue.queue;
  const noAgents = waiting > 0 && !(queue.agentsAvailable || 0);
  return h("tr", {
    class: "selectable", "aria-selected": selected ? "true" : "false",
    dataset: { queue: queue.queue, waiting, belowTarget: belowTarget ? "true" : "false" },
    onclick: () => selectQueue(queue.queue),
  },
  h("td", {}, h("button", { type: "button", class: "row-button", dataset: { focusKey: `queue:${queue.queue}` }, "aria-pressed": selected ? "true" : "false" }, queue.queue)),
  h("td", { class: `num ${waiting ? "warn" : ""}`, dataset: { field: "waiting" } }, String(waiting)),
  h("td", { class: `num ${waitClass}`, dataset: { field: "longest-wait" } }, waiting ? duration(longest) : "–"),
  h("td", { class: "num", dataset: { field: "estimated-wait" } }, queue.hasEstimate ? duration(queue.estimatedWaitSeconds) : "–"),
  h("td", { class: `num ${noAgents ? "cell-bad" : ""}`, dataset: { field: "agents" }, title: noAgents ? "Conversations wait and no agent is available" : undefined },
    `${queue.agentsAvailable || 0} / ${queue.agentsBusy || 0}`),
  h("td", {
    class: `num ${hasLevel ? (belowTarget ? "bad" : "good") : ""}`, dataset: { field: "service-level" },
    title: `Share of recent conversations answered within ${duration(threshold)} (target ${percent(ServiceLevelTarget)})`,
  }, hasLevel ? percent(queue.serviceLevel) : "–"),
  h("td", { class: "num", dataset: { field: "answered" } }, String(queue.answered || 0)),
  h("td", { class: `num ${queue.abandoned ? "warn" : ""}`, dataset: { field: "abandoned" } }, String(queue.abandoned || 0)));
}

function agentRow(agent) {
  const capacity = agent.capacity || 0;
  const load = agent.conversations || 0;
  const share = capacity ? Math.min(1, load / capacity) : 0;
  const meter = h("span", { class: `meter ${capacity && load >= capacity ? "full" : ""}`, role: "img", "aria-label": `${load} of ${capacity}` }, h("span"));
  meter.firstChild.style.width = `${Math.round(share * 100)}%`;
  return h("tr", { dataset: { agent: agent.agentId, presence: agent.presence, connected: agent.connected ? "true" : "false" } },
    h("td", {}, h("strong", {}, agent.displayName || agent.agentId), h("div", { class: "sub mono" }, agent.agentId)),
    h("td", {}, badge(agent.presence)),
    h("td", {}, h("span", { class: `dot ${agent.connected ? "on" : "off"}` }), agent.connected ? "Connected" : "Disconnected"),
    h("td", {}, h("span", { class: "load" }, meter, h("span", { dataset: { field: "load" } }, `${load} / ${capacity}`))),
    h("td", { class: "sub" }, load === 0 && agent.idleSince ? ago(agent.idleSince) : "–"),
    h("td", { class: "sub" }, (agent.queues || []).join(", ")));
}

async function selectQueue(queue) {
  state.selectedQueue = queue;
  state.queueHistory = null;
  renderFloor();
  await loadQueueHistory(queue);
}

async function loadQueueHistory(queue) {
  try {
    const history = await api.queueHistory(queue, 24);
    if (state.selectedQueue === queue) {
      state.queueHistory = history;
      state.queueHistoryAt = Date.now();
      renderQueueHistory();
    }
  } catch (error) {
    handleFailure(error, "floor");
  }
}

function renderQueueHistory() {
  const target = $("[data-queue-chart]");
  if (!state.selectedQueue) {
    return;
  }
  $("[data-queue-chart-title]").textContent = `${state.selectedQueue} · last 24 hours`;
  if (!state.queueHistory || state.queueHistory.queue !== state.selectedQueue) {
    fill(target, h("p", { class: "empty" }, "Loading history…"));
    return;
  }
  fill(target, queueHistoryChart(state.queueHistory, ServiceLevelTarget));
}

// ---------------------------------------------------------------- conversations

const OwnerEmpty = {
  "": "No open conversation.",
  OWNER_KIND_BOT: "No conversation with the bot.",
  OWNER_KIND_QUEUE: "No conversation waiting.",
  OWNER_KIND_AGENT: "No conversation with an agent.",
};

function renderConversations() {
  for (const button of document.querySelectorAll("[data-owner-filter] button")) {
    button.setAttribute("aria-pressed", button.dataset.owner === state.owner ? "true" : "false");
  }
  const list = $("[data-conversation-list]");
  const response = state.conversations;
  if (!response) {
    fill(list, h("p", { class: "empty" }, "Loading conversations…"));
  } else {
    const conversations = response.conversations || [];
    const total = response.total || 0;
    $("[data-conversations-total]").textContent = total > conversations.length ? `${conversations.length} of ${total}` : `${total} open`;
    if (conversations.length === 0) {
      fill(list, h("p", { class: "empty", dataset: { empty: "conversations" } }, OwnerEmpty[state.owner]));
    } else {
      fill(list, h("table", { "aria-label": "Open conversations" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Customer"),
          h("th", { scope: "col" }, "Intent"),
          h("th", { scope: "col" }, "Owner"),
          h("th", { scope: "col" }, "Since"),
          h("th", { scope: "col" }, "Why"))),
        h("tbody", {}, conversations.map(conversationRow))));
    }
  }
  renderConversationDetail();
}

function conversationRow(c) {
  const selected = c.conversationId === state.selectedConversation;
  const waited = since(c.ownerSince);
  const long = c.owner?.kind === "OWNER_KIND_QUEUE" && waited > 60;
  return h("tr", {
    class: "selectable", "aria-selected": selected ? "true" : "false",
    dataset: { conversation: c.conversationId, ownerKind: c.owner?.kind || "", intent: c.intent || "" },
    onclick: () => openConversation(c.conversationId),
  },
  h("td", {},
    h("button", { type: "button", class: "row-button", dataset: { focusKey: `conversation:${c.conversationId}` } }, c.customerName || "Customer"),
    h("div", { class: "sub" }, `${c.channel} · ${c.language || "?"}`)),
  h("td", {}, c.intent || h("span", { class: "sub" }, "not understood yet")),
  h("td", {}, badge(c.owner?.kind, words(c.owner?.kind)), c.owner?.id ? h("div", { class: "sub mono" }, c.owner.id) : null),
  h("td", { class: long ? "warn" : "", title: absolute(c.ownerSince) }, duration(waited)),
  h("td", {}, c.reasonCode ? h("span", { class: "chip code" }, c.reasonCode) : "–"));
}

function openConversation(id) {
  location.hash = `#conversations/${encodeURIComponent(id)}`;
}

function renderConversationDetail() {
  const panel = $("[data-conversation-detail]");
  if (!state.selectedConversation) {
    fill(panel, h("p", { class: "empty" }, "Select a conversation to see why it is where it is."));
    return;
  }
  const c = state.conversation;
  if (!c) {
    fill(panel, h("p", { class: "empty" }, "Loading the conversation…"));
    return;
  }
  if (c.missing) {
    fill(panel, h("p", { class: "empty" }, c.missing));
    return;
  }
  const summary = c.summary || {};
  const open = c.status !== "CONVERSATION_STATUS_CLOSED";
  fill(panel, h("div", { dataset: { conversationDetail: summary.conversationId, ownerKind: summary.owner?.kind || "", ownerId: summary.owner?.id || "" } },
    h("div", { class: "detail-head" },
      h("div", {},
        h("h2", {}, summary.customerName || "Customer"),
        h("div", { class: "sub mono" }, summary.conversationId)),
      h("div", { class: "actions left" },
        h("button", { type: "button", class: "primary", disabled: !open, dataset: { action: "take-over", focusKey: "take-over" }, onclick: () => takeOverDialog(summary) }, "Take over"),
        h("button", { type: "button", disabled: !open, dataset: { action: "send-to-queue", focusKey: "send-to-queue" }, onclick: () => sendToQueueDialog(summary) }, "Send to queue"))),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, open ? "Open" : "Closed"),
      h("dt", {}, "Owner"), h("dd", { dataset: { field: "owner" } }, badge(summary.owner?.kind, ownerText(summary.owner)), " ", h("span", { class: "sub" }, `for ${duration(since(summary.ownerSince))}`)),
      h("dt", {}, "Intent"), h("dd", {}, summary.intent || "–", " ", summary.intent && c.intentLevel ? badge(c.intentLevel) : null),
      h("dt", {}, "Channel"), h("dd", {}, `${summary.channel} · ${summary.language || "?"}`),
      h("dt", {}, "Started"), h("dd", {}, ago(summary.startedAt))),
    h("h3", {}, "Why it is where it is"),
    ledger(c.ledger || []),
    h("h3", {}, "Last entries"),
    entries(c.lastEntries || [])));
}

function ledger(changes) {
  if (changes.length === 0) {
    return h("p", { class: "empty" }, "No owner change recorded.");
  }
  // Newest first: the question is usually why it is where it is now.
  return h("ol", { class: "ledger", "aria-label": "Ownership ledger, newest first", dataset: { ledger: "" } },
    [...changes].reverse().map((change) => {
      const codes = change.reasonCodes?.length ? change.reasonCodes : change.reasonCode ? [change.reasonCode] : [];
      const signals = Object.entries(change.signals || {});
      return h("li", { dataset: { ledgerEntry: "", reasonCode: change.reasonCode || "" } },
        h("div", {},
          h("span", { class: "route" }, `${ownerText(change.from)} → ${ownerText(change.to)}`), " ",
          h("span", { class: "sub" }, clock(change.time), " · ", ago(change.time))),
        change.reason ? h("p", { class: "reason" }, change.reason) : null,
        h("div", { class: "chips" },
          codes.map((code) => h("span", { class: "chip code" }, code)),
          signals.map(([name, value]) => h("span", { class: "chip", title: "Signal" }, `${name} = ${value}`))));
    }));
}

const StatusWords = {
  STATUS_KIND_STARTED: "Conversation started",
  STATUS_KIND_QUEUED: "Queued",
  STATUS_KIND_AGENT_JOINED: "Agent joined",
  STATUS_KIND_RESOLVED: "Resolved",
  STATUS_KIND_CLOSED: "Closed",
  STATUS_KIND_BOT_RESUMED: "Bot resumed",
  STATUS_KIND_RATING_REQUESTED: "Rating requested",
};

function entries(list) {
  if (list.length === 0) {
    return h("p", { class: "empty" }, "No entries yet.");
  }
  return h("ol", { class: "entries", dataset: { entries: "" } }, list.map((entry) => {
    if (entry.message) {
      const sender = slug(entry.message.sender?.replace("SENDER_KIND_", "")) || "system";
      const who = { customer: "Customer", bot: "Bot", agent: entry.message.senderId || "Agent", system: "System" }[sender] || sender;
      return h("li", { class: sender, dataset: { entry: sender } },
        h("span", { class: "who" }, `${who} · ${clock(entry.time)}`), entry.message.text);
    }
    const status = entry.status || {};
    const extra = status.kind === "STATUS_KIND_AGENT_JOINED" && status.agentName ? `: ${status.agentName}` : status.detail ? `: ${status.detail}` : "";
    return h("li", { class: "status", dataset: { entry: "status" } }, `${StatusWords[status.kind] || "Status"}${extra} · ${clock(entry.time)}`);
  }));
}

function reasonField(id, label, hint) {
  return [
    h("label", { for: id }, label),
    h("textarea", { id, rows: 3, required: true, maxlength: 500, dataset: { reason: "" }, "aria-describedby": `${id}-hint` }),
    h("p", { class: "sub", id: `${id}-hint` }, hint),
  ];
}

function takeOverDialog(summary) {
  openDialog({
    title: `Take over ${summary.customerName || "this conversation"}`,
    confirm: "Take over",
    body: [
      h("p", {}, `Now with: ${ownerText(summary.owner)}. It becomes one of your assignments on your agent desk and the bot falls silent; answer from the desk.`),
      reasonField("take-over-reason", "Reason (kept in the ledger)", "e.g. \"Complaint escalated to me\"."),
    ],
    run: async (form) => {
      const reason = $("[data-reason]", form).value.trim();
      if (!reason) {
        throw new ApiError("refused", 0, "A reason is required: the ledger keeps why a supervisor acted.");
      }
      state.conversation = await api.takeOver(summary.conversationId, reason);
    },
    done: () => refresh("conversations"),
  });
}

async function sendToQueueDialog(summary) {
  if (!state.floor) {
    try {
      state.floor = await api.floor();
    } catch (error) {
      handleFailure(error, "conversations");
      return;
    }
  }
  const queues = state.floor.queues || [];
  const current = summary.owner?.kind === "OWNER_KIND_QUEUE" ? summary.owner.id : null;
  const preferred = queues.find((q) => q.queue !== current && q.language === summary.language) || queues[0];
  const select = h("select", { id: "send-queue", dataset: { queueSelect: "" } },
    queues.map((q) => h("option", { value: q.queue, selected: q === preferred }, `${q.queue} · ${q.waiting || 0} waiting, ${q.agentsAvailable || 0} available`)));
  openDialog({
    title: `Send ${summary.customerName || "this conversation"} to a queue`,
    confirm: "Send to queue",
    body: [
      h("p", {}, `Now with: ${ownerText(summary.owner)}. It joins the queue at the priority of an escalation.`),
      h("label", { for: "send-queue" }, "Queue"),
      select,
      reasonField("send-reason", "Reason (kept in the ledger)", "e.g. \"Needs a billing specialist\"."),
    ],
    run: async (form) => {
      const reason = $("[data-reason]", form).value.trim();
      if (!reason) {
        throw new ApiError("refused", 0, "A reason is required: the ledger keeps why a supervisor acted.");
      }
      const queue = queues.find((q) => q.queue === select.value);
      state.conversation = await api.sendToQueue(summary.conversationId, queue?.skill || "", queue?.language || "", reason);
    },
    done: () => refresh("conversations"),
  });
}

// ---------------------------------------------------------------- automation

function figureCells(level, pick, format, sides = ["bot", "human"], warn) {
  return sides.map((side) => {
    const value = pick(level[side] || {});
    return h("td", { class: `num ${side}-col ${warn && warn(level, side) ? "warn" : ""}`, dataset: { figure: side } }, format(value));
  });
}

/** The bot does worse than the humans on the same intent: a reason to look before promoting. */
function botBehind(level, side) {
  const bot = level.bot?.averageRating;
  const human = level.human?.averageRating;
  return side === "bot" && typeof bot === "number" && typeof human === "number" && bot < human - 0.3;
}

function renderAutomation() {
  const policy = state.policy;
  const table = $("[data-intents]");
  if (!policy) {
    fill(table, h("p", { class: "empty" }, "Loading the automation policy…"));
    return;
  }
  $("[data-policy-version]").textContent = `Policy version ${policy.version || 0}`;
  const levels = policy.levels || [];
  if (levels.length === 0) {
    fill(table, h("p", { class: "empty" }, "No intent in the knowledge base."));
  } else {
    const count = (v) => String(v || 0);
    fill(table, h("table", { "aria-label": "Intents and their automation levels" },
      h("thead", {},
        h("tr", {},
          h("th", { scope: "col", rowspan: 2 }, "Intent"),
          h("th", { scope: "col", rowspan: 2 }, "Level"),
          h("th", { scope: "colgroup", colspan: 2, class: "group" }, "Conversations"),
          h("th", { scope: "colgroup", colspan: 2, class: "group" }, "Avg rating"),
          h("th", { scope: "colgroup", colspan: 2, class: "group" }, "Repeat contact"),
          h("th", { scope: "col", class: "group num" }, "Escalation"),
          h("th", { scope: "col", class: "group num" }, "Review approval"),
          h("th", { scope: "col", class: "group num" }, "Draft acceptance"),
          h("th", { scope: "col", rowspan: 2 }, h("span", { class: "sub" }, "Change level"))),
        h("tr", {},
          ["Bot", "Human", "Bot", "Human", "Bot", "Human", "Bot", "Bot", "Human"].map((side) =>
            h("th", { scope: "col", class: `num ${side.toLowerCase()}-col` }, side)))),
      h("tbody", {}, levels.map((level) => {
        const index = Levels.indexOf(level.level);
        const selected = state.selectedIntent === level.intent;
        return h("tr", {
          class: "selectable", "aria-selected": selected ? "true" : "false",
          dataset: { intent: level.intent, level: level.level },
          onclick: (event) => {
            if (!event.target.closest("[data-action]")) {
              selectIntent(level.intent);
            }
          },
        },
        h("td", {}, h("button", { type: "button", class: "row-button", dataset: { focusKey: `intent:${level.intent}` } }, level.intent)),
        h("td", { dataset: { field: "level" } }, badge(level.level)),
        figureCells(level, (f) => f.conversations, count),
        figureCells(level, (f) => f.averageRating, rating, ["bot", "human"], botBehind),
        figureCells(level, (f) => f.repeatContactRate, percent),
        figureCells(level, (f) => f.escalationRate, percent, ["bot"]),
        figureCells(level, (f) => f.reviewApproval, (v) => (level.bot?.reviewed ? `${percent(v)} of ${level.bot.reviewed}` : "–"), ["bot"]),
        figureCells(level, (f) => f.draftAcceptance, (v) => (level.human?.drafts ? `${percent(v)} of ${level.human.drafts}` : "–"), ["human"]),
        h("td", { class: "actions-cell" },
          h("button", {
            type: "button", class: "small", disabled: index <= 0, title: index > 0 ? `Demote to ${words(Levels[index - 1])}` : "Already human only",
            "aria-label": `Demote ${level.intent}`, dataset: { action: "demote", focusKey: `demote:${level.intent}` },
            onclick: () => levelDialog(level, -1),
          }, "▼ Demote"), " ",
          h("button", {
            type: "button", class: "small", disabled: index < 0 || index >= Levels.length - 1, title: index >= 0 && index < Levels.length - 1 ? `Promote to ${words(Levels[index + 1])}` : "Already autonomous",
            "aria-label": `Promote ${level.intent}`, dataset: { action: "promote", focusKey: `promote:${level.intent}` },
            onclick: () => levelDialog(level, 1),
          }, "▲ Promote")));
      }))));
  }
  renderAudit(policy.audit || []);
  renderIntentHistory();
}

function renderAudit(all) {
  const target = $("[data-audit]");
  // The first version lists every intent once "by configuration": noise next to the decisions people made.
  const audit = state.includeConfiguration ? all : all.filter((change) => change.changedBy !== "configuration");
  if (audit.length === 0) {
    fill(target, h("p", { class: "empty" }, all.length ? "No change since the policy's first version." : "No level change yet."));
    return;
  }
  fill(target, h("table", { "aria-label": "Level changes, newest first" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "When"),
      h("th", { scope: "col" }, "Intent"),
      h("th", { scope: "col" }, "Change"),
      h("th", { scope: "col" }, "By"),
      h("th", { scope: "col" }, "Why"))),
    h("tbody", {}, [...audit].reverse().slice(0, 100).map((change) =>
      h("tr", { dataset: { auditRow: "", intent: change.intent, to: change.to, changedBy: change.changedBy } },
        h("td", { class: "sub nowrap", title: absolute(change.time) }, relative(change.time)),
        h("td", { class: "nowrap" }, change.intent),
        h("td", { class: "nowrap" }, change.from && change.from !== "AUTOMATION_LEVEL_UNSPECIFIED" ? [badge(change.from), " → "] : null, badge(change.to)),
        h("td", { class: "mono nowrap", dataset: { field: "changed-by" } }, change.changedBy),
        h("td", { dataset: { field: "reason" } }, change.reason))))));
}

function evidence(level) {
  const row = (label, pick, format) => h("tr", {},
    h("th", { scope: "row" }, label),
    h("td", { class: "num" }, format(pick(level.bot || {}))),
    h("td", { class: "num" }, format(pick(level.human || {}))));
  const count = (v) => String(v || 0);
  return h("table", { class: "evidence", dataset: { evidence: level.intent } },
    h("thead", {}, h("tr", {}, h("th", {}, "Last 28 days"), h("th", { class: "num" }, "Bot"), h("th", { class: "num" }, "Human"))),
    h("tbody", {},
      row("Conversations", (f) => f.conversations, count),
      row("Rated", (f) => f.rated, count),
      row("Average rating", (f) => f.averageRating, rating),
      row("Repeat contact", (f) => f.repeatContactRate, percent),
      row("Escalation", (f) => f.escalationRate, percent),
      row("Review approval", (f) => f.reviewApproval, percent),
      row("Draft acceptance", (f) => f.draftAcceptance, percent)));
}

function levelDialog(level, step) {
  const index = Levels.indexOf(level.level);
  const to = Levels[index + step];
  if (!to) {
    return;
  }
  const verb = step > 0 ? "Promote" : "Demote";
  openDialog({
    title: `${verb} ${level.intent}`,
    confirm: `${verb} to ${words(to)}`,
    body: [
      h("p", { class: "change", dataset: { change: `${level.level}->${to}` } }, badge(level.level), " → ", badge(to)),
      h("p", { class: "sub" }, LevelMeaning[to]),
      evidence(level),
      reasonField("level-reason", "Reason (kept in the audit)", step > 0 ? "e.g. \"Ratings on par with agents for 3 weeks\"." : "e.g. \"Repeat contacts doubled this week\"."),
    ],
    run: async (form) => {
      const reason = $("[data-reason]", form).value.trim();
      if (!reason) {
        throw new ApiError("refused", 0, "A reason is required: the audit keeps why the level changed.");
      }
      state.policy = await api.setLevel(level.intent, to, reason);
    },
    done: () => renderCurrent(),
  });
}

async function selectIntent(intent) {
  state.selectedIntent = intent;
  state.intentHistory = null;
  renderAutomation();
  try {
    const history = await api.intentHistory(intent);
    if (state.selectedIntent === intent) {
      state.intentHistory = history;
      renderIntentHistory();
    }
  } catch (error) {
    handleFailure(error, "automation");
  }
}

function renderIntentHistory() {
  if (!state.selectedIntent) {
    return;
  }
  $("[data-intent-chart-title]").textContent = `${state.selectedIntent} · average rating per day`;
  const target = $("[data-intent-chart]");
  if (!state.intentHistory || state.intentHistory.intent !== state.selectedIntent) {
    fill(target, h("p", { class: "empty" }, "Loading history…"));
    return;
  }
  fill(target, intentRatingChart(state.intentHistory));
}

// ---------------------------------------------------------------- reviews

function renderReviews() {
  const target = $("[data-reviews]");
  $("[data-include-decided]").checked = state.includeDecided;
  if (!state.reviews) {
    fill(target, h("p", { class: "empty" }, "Loading reviews…"));
    return;
  }
  const reviews = state.reviews.reviews || [];
  const waiting = reviews.filter((r) => !r.verdict || r.verdict === "REVIEW_VERDICT_UNSPECIFIED").length;
  updateReviewCount(waiting);
  if (reviews.length === 0) {
    fill(target, h("p", { class: "empty", dataset: { empty: "reviews" } }, state.includeDecided ? "No review yet." : "No conversation waiting for review."));
    return;
  }
  fill(target, h("table", { "aria-label": "Reviews" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Conversation"),
      h("th", { scope: "col" }, "Intent"),
      h("th", { scope: "col" }, "Channel"),
      h("th", { scope: "col" }, "Closed"),
      h("th", { scope: "col" }, "Verdict"),
      h("th", { scope: "col" }, "Note"),
      h("th", { scope: "col" }, h("span", { class: "sub" }, "Decide")))),
    h("tbody", {}, reviews.map((review) => {
      const decided = review.verdict && review.verdict !== "REVIEW_VERDICT_UNSPECIFIED";
      return h("tr", { dataset: { review: review.conversationId, verdict: review.verdict || "REVIEW_VERDICT_UNSPECIFIED" } },
        h("td", {}, h("a", { href: `#conversations/${encodeURIComponent(review.conversationId)}`, class: "mono", dataset: { openConversation: review.conversationId } },
          review.conversationId.length > 18 ? `${review.conversationId.slice(0, 18)}…` : review.conversationId)),
        h("td", {}, review.intent),
        h("td", {}, review.channel),
        h("td", { class: "sub", title: absolute(review.closedAt) }, relative(review.closedAt)),
        h("td", {}, badge(review.verdict || "REVIEW_VERDICT_UNSPECIFIED"), decided && review.reviewedBy ? h("div", { class: "sub mono" }, review.reviewedBy) : null),
        h("td", { class: "sub" }, review.note || ""),
        h("td", {}, decided ? null : [
          h("button", { type: "button", class: "small", dataset: { action: "approve", focusKey: `approve:${review.conversationId}` }, onclick: () => reviewDialog(review, "REVIEW_VERDICT_APPROVED") }, "Approve"), " ",
          h("button", { type: "button", class: "small danger", dataset: { action: "reject", focusKey: `reject:${review.conversationId}` }, onclick: () => reviewDialog(review, "REVIEW_VERDICT_REJECTED") }, "Reject"),
        ]));
    }))));
}

async function countReviews() {
  try {
    const waiting = await api.reviews(false);
    updateReviewCount((waiting.reviews || []).length);
  } catch {
    // The screen's own refresh reports failures; a missing count is not worth a second banner.
  }
}

function updateReviewCount(waiting) {
  const count = $("[data-review-count]");
  count.textContent = String(waiting);
  count.hidden = waiting === 0;
  count.setAttribute("aria-label", `${waiting} waiting`);
}

function reviewDialog(review, verdict) {
  const approve = verdict === "REVIEW_VERDICT_APPROVED";
  openDialog({
    title: `${approve ? "Approve" : "Reject"} the bot's handling`,
    confirm: approve ? "Approve" : "Reject",
    body: [
      h("p", {}, `${review.intent} on ${review.channel}, closed ${relative(review.closedAt)}. `,
        h("a", { href: `#conversations/${encodeURIComponent(review.conversationId)}`, onclick: () => closeDialog() }, "Open the conversation")),
      h("label", { for: "review-note" }, approve ? "Note (optional)" : "What was wrong (required)"),
      h("textarea", { id: "review-note", rows: 3, maxlength: 500, required: !approve, dataset: { reviewNote: "" } }),
    ],
    run: async (form) => {
      const note = $("[data-review-note]", form).value.trim();
      if (!approve && !note) {
        throw new ApiError("refused", 0, "Say what was wrong: the note helps whoever tunes the bot.");
      }
      await api.recordReview(review.conversationId, verdict, note);
    },
    done: () => refresh("reviews"),
  });
}

// ---------------------------------------------------------------- dialog

let dialogRun = null;

function openDialog({ title, confirm, body, run, done }) {
  const dialog = $("[data-dialog]");
  $("[data-dialog-title]").textContent = title;
  fill($("[data-dialog-body]"), body);
  $("[data-dialog-message]").textContent = "";
  const button = $("[data-dialog-confirm]");
  button.textContent = confirm;
  button.disabled = false;
  dialogRun = { run, done };
  dialog.showModal();
  const first = $("textarea, select", dialog);
  first?.focus();
}

function closeDialog() {
  const dialog = $("[data-dialog]");
  if (dialog.open) {
    dialog.close();
  }
  dialogRun = null;
}

async function confirmDialog(event) {
  event.preventDefault();
  if (!dialogRun) {
    return;
  }
  const { run, done } = dialogRun;
  const button = $("[data-dialog-confirm]");
  const message = $("[data-dialog-message]");
  button.disabled = true;
  message.textContent = "";
  try {
    await run($("[data-dialog-form]"));
    closeDialog();
    await done?.();
  } catch (error) {
    if (error instanceof ApiError && (error.kind === "unauthorized" || error.kind === "forbidden")) {
      closeDialog();
      signOut(error.message);
      return;
    }
    message.textContent = error instanceof ApiError ? error.message : String(error);
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- start

function start() {
  $("[data-signin-form]").addEventListener("submit", signIn);
  $("[data-sign-out]").addEventListener("click", () => signOut("Signed out."));
  $("[data-dialog-form]").addEventListener("submit", confirmDialog);
  $("[data-dialog-cancel]").addEventListener("click", closeDialog);
  $("[data-dialog]").addEventListener("close", () => {
    dialogRun = null;
  });
  for (const button of document.querySelectorAll("[data-owner-filter] button")) {
    button.addEventListener("click", () => {
      state.owner = button.dataset.owner;
      state.conversations = null;
      renderConversations();
      poll();
    });
  }
  $("[data-include-decided]").addEventListener("change", (event) => {
    state.includeDecided = event.target.checked;
    state.reviews = null;
    renderReviews();
    poll();
  });
  $("[data-include-configuration]").addEventListener("change", (event) => {
    state.includeConfiguration = event.target.checked;
    renderAutomation();
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
