// The ContactGrains web chat page. Entries come from the server-sent event stream /api/events, each
// with the id "conversationId:sequence": the page draws each id once, in the order received (the
// server sends every conversation in sequence, with no gap), and resumes after the last one it drew.
// Messages go out with POST /api/messages and an id made here, so a retried POST is stored once.
(() => {
  'use strict';

  const texts = JSON.parse(document.getElementById('texts').textContent);
  const lang = document.documentElement.lang;
  const root = document.querySelector('.chat');
  const maxLength = Number(root.dataset.maxLength);
  const log = document.getElementById('log');
  const closedConversations = new Set();
  const scroller = document.getElementById('scroller');
  const form = document.getElementById('composer');
  const textarea = document.getElementById('message');
  const sendButton = document.getElementById('send');
  const status = document.getElementById('status');
  const statusText = document.getElementById('status-text');
  const formError = document.getElementById('form-error');
  const counter = document.getElementById('counter');
  const endChat = document.getElementById('end-chat');

  const shown = new Set(); // entry ids already on the page
  const pending = new Map(); // the page's message id -> its bubble, until the stream brings the stored message
  // The browser's own variant of the page's language (en-GB writes 13:05, en-US 1:05 PM).
  const browserLanguage = navigator.language || lang;
  const timeFormat = new Intl.DateTimeFormat(
    browserLanguage.toLowerCase().startsWith(lang) ? browserLanguage : lang, { hour: '2-digit', minute: '2-digit' });
  const MaxAutomaticTries = 6;
  let lastEventId = null;
  let conversationId = null;
  let agentName = null;
  let source = null;
  let sessionLost = false;

  const format = (key, ...values) => texts[key].replace(/\{(\d+)\}/g, (_, index) => String(values[Number(index)]));

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }

    // randomUUID needs a secure context; getRandomValues does not.
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ---- connection status --------------------------------------------------------------------

  function setStatus(state) {
    status.dataset.state = state;
    statusText.textContent = texts[{ online: 'Online', connecting: 'Connecting', reconnecting: 'Reconnecting' }[state]];
  }

  function connect() {
    const url = lastEventId ? '/api/events?after=' + encodeURIComponent(lastEventId) : '/api/events';
    source = new EventSource(url);
    source.addEventListener('open', () => setStatus('online'));
    source.addEventListener('entry', (event) => {
      draw(JSON.parse(event.data));
      lastEventId = event.lastEventId;
    });
    source.addEventListener('error', () => {
      setStatus('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up on this EventSource (a refusal, or the server was gone too long): ask
        // why, then open a new one that resumes after the last entry drawn.
        source.close();
        checkSession().then((ok) => { if (ok) { setTimeout(connect, 2000); } });
      }
    });
  }

  async function checkSession() {
    try {
      const response = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 401) {
        sessionLost = true;
        showError((await problemOf(response)) || texts.ErrorUnknownSession);
        return false;
      }
    } catch {
      // The web chat itself is unreachable: keep trying.
    }
    return true;
  }

  // ---- drawing entries ----------------------------------------------------------------------

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  // New entries go above the bubbles still being sent, so the log keeps the conversation's order.
  function insert(item) {
    const stick = nearBottom();
    const firstPending = log.querySelector('.entry[data-state]');
    log.insertBefore(item, firstPending);
    grouping(item);
    if (firstPending) {
      grouping(firstPending);
    }
    if (stick) {
      scrollToEnd();
    }
  }

  // A run of messages from the same sender shows the sender's name and avatar once.
  function grouping(item) {
    const previous = item.previousElementSibling;
    const continued = previous && previous.dataset.sender && previous.dataset.sender === item.dataset.sender;
    item.classList.toggle('continued', Boolean(continued));
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function timeOf(iso) {
    const time = element('time', 'time', timeFormat.format(new Date(iso)));
    time.dateTime = iso;
    return time;
  }

  const botIcon = document.querySelector('.entry-welcome .avatar').innerHTML;

  function messageItem(kind, senderLabel, senderKey, text, iso) {
    const item = element('li', 'entry entry-' + kind);
    item.dataset.kind = kind;
    item.dataset.sender = senderKey;
    if (kind !== 'customer') {
      const avatar = element('div', 'avatar avatar-' + kind);
      avatar.setAttribute('aria-hidden', 'true');
      if (kind === 'bot') {
        avatar.innerHTML = botIcon;
      } else {
        avatar.textContent = (senderLabel.trim()[0] || '?').toUpperCase();
      }
      item.append(avatar);
    }
    const group = element('div', 'bubble-group');
    group.append(element('span', 'sender', senderLabel));
    group.append(element('div', 'bubble', text));
    const meta = element('div', 'meta');
    if (iso) {
      meta.append(timeOf(iso));
    }
    group.append(meta);
    item.append(group);
    return item;
  }

  function noticeItem(kind, text, iso) {
    const item = element('li', 'notice notice-' + kind);
    item.dataset.kind = 'status';
    item.dataset.status = kind;
    const line = element('p', 'notice-text', text);
    if (iso && (kind === 'started' || kind === 'agent-joined' || kind === 'closed')) {
      line.append(document.createTextNode(' · '), timeOf(iso));
    }
    item.append(line);
    return item;
  }

  function draw(entry) {
    if (shown.has(entry.id)) {
      return; // never twice, whatever the network did
    }
    shown.add(entry.id);

    if (conversationId && entry.conversationId !== conversationId) {
      const divider = noticeItem('divider', texts.NewConversation);
      insert(divider);
    }
    conversationId = entry.conversationId;

    let item;
    switch (entry.kind) {
      case 'customer':
        item = messageItem('customer', texts.You, 'customer', entry.text, entry.time);
        if (entry.clientMessageId && pending.has(entry.clientMessageId)) {
          pending.get(entry.clientMessageId).remove();
          pending.delete(entry.clientMessageId);
        }
        break;
      case 'bot':
        item = messageItem('bot', texts.Assistant, 'bot', entry.text, entry.time);
        break;
      case 'agent':
        item = messageItem('agent', agentName || texts.Adviser, 'agent:' + (agentName || ''), entry.text, entry.time);
        break;
      case 'system':
        item = noticeItem('system', entry.text, entry.time);
        break;
      default:
        if (entry.status === 'agent-joined' && entry.agentName) {
          agentName = entry.agentName;
        }
        item = noticeItem(entry.status || 'other', entry.text, entry.time);
        if (entry.status === 'rating-requested') {
          item.append(ratingButtons());
        } else if (entry.status === 'rating-received') {
          log.querySelectorAll('.rating button').forEach((button) => { button.disabled = true; });
        }
        break;
    }

    item.id = 'entry-' + entry.id.replace(/[^A-Za-z0-9_-]/g, '-');
    item.dataset.entryId = entry.id;
    item.dataset.sequence = String(entry.sequence);
    insert(item);
    if (entry.status === 'closed') {
      closedConversations.add(entry.conversationId);
    }
    // Entries after CLOSED (the customer's rating and its thanks) do not reopen it.
    endChat.hidden = closedConversations.has(entry.conversationId);
  }

  // The answer to "from 1 to 5?": one tap sends the number as the customer's message, which the
  // cluster takes as the rating (typing it works the same).
  function ratingButtons() {
    const group = element('div', 'rating');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', texts.RateGroup);
    for (let value = 1; value <= 5; value++) {
      const button = element('button', 'rate', String(value));
      button.type = 'button';
      button.dataset.rating = String(value);
      button.setAttribute('aria-label', format('RateOutOf', value));
      button.addEventListener('click', () => {
        group.querySelectorAll('button').forEach((other) => { other.disabled = true; });
        button.dataset.chosen = 'true';
        sendText(String(value));
      });
      group.append(button);
    }
    return group;
  }

  // ---- sending ------------------------------------------------------------------------------

  async function problemOf(response) {
    try {
      const problem = await response.json();
      return problem && typeof problem.title === 'string' ? problem.title : null;
    } catch {
      return null;
    }
  }

  function showError(message) {
    formError.textContent = message;
    formError.hidden = !message;
  }

  function pendingItem(id, text) {
    const item = messageItem('customer', texts.You, 'customer', text, null);
    item.dataset.state = 'sending';
    item.dataset.clientId = id;
    item.querySelector('.meta').append(element('span', 'delivery', texts.Sending));
    pending.set(id, item);
    log.append(item);
    grouping(item);
    scrollToEnd(); // the customer just wrote: show it
    return item;
  }

  function markFailed(item, id, text, reason) {
    item.dataset.state = 'failed';
    const meta = item.querySelector('.meta');
    meta.replaceChildren(element('span', 'delivery delivery-failed', texts.NotSent + (reason ? ' ' + reason : '')));
    const retry = element('button', 'retry', texts.Retry);
    retry.type = 'button';
    retry.addEventListener('click', () => deliver(id, text, item, 1));
    meta.append(retry);
  }

  async function deliver(id, text, item, attempt) {
    item.dataset.state = 'sending';
    item.querySelector('.meta').replaceChildren(element('span', 'delivery', texts.Sending));
    let reason = null;
    let retryable = true;
    try {
      const response = await fetch('/api/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ id, text }),
      });
      if (response.ok) {
        if (pending.has(id)) {
          item.dataset.state = 'sent'; // stored; the stream brings it in its place
        }
        return;
      }
      reason = await problemOf(response);
      retryable = response.status === 503 || response.status === 502 || response.status === 504;
      if (response.status === 401) {
        sessionLost = true;
      }
    } catch {
      // No answer at all (the network, or the web chat restarting): the same id again is safe.
    }

    if (retryable && attempt < MaxAutomaticTries && pending.has(id)) {
      setTimeout(() => deliver(id, text, item, attempt + 1), Math.min(1000 * 2 ** (attempt - 1), 8000));
      return;
    }
    markFailed(item, id, text, reason);
  }

  function send() {
    const text = textarea.value;
    if (sessionLost) {
      showError(texts.ErrorUnknownSession);
      return;
    }
    if (!text.trim()) {
      showError(texts.ErrorEmpty);
      textarea.focus();
      return;
    }
    if (text.length > maxLength) {
      showError(format('ErrorTooLong', maxLength));
      return;
    }
    showError('');
    textarea.value = '';
    resize();
    updateCounter();
    textarea.focus();
    sendText(text);
  }

  function sendText(text) {
    const id = newId();
    const item = pendingItem(id, text);
    deliver(id, text, item, 1);
  }

  // ---- composer -----------------------------------------------------------------------------

  function resize() {
    textarea.style.height = 'auto';
    textarea.style.height = Math.min(textarea.scrollHeight, 160) + 'px';
  }

  function updateCounter() {
    const left = maxLength - textarea.value.length;
    counter.textContent = left <= 200 ? format('CharactersLeft', left) : '';
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  textarea.addEventListener('input', () => {
    resize();
    updateCounter();
    if (textarea.value.trim()) {
      showError('');
    }
  });

  endChat.addEventListener('click', async () => {
    endChat.disabled = true;
    try {
      const response = await fetch('/api/close', { method: 'POST', credentials: 'same-origin' });
      if (!response.ok) {
        showError((await problemOf(response)) || texts.ErrorUnavailable);
      }
    } catch {
      showError(texts.ErrorUnavailable);
    } finally {
      endChat.disabled = false;
    }
  });

  for (const link of document.querySelectorAll('.lang-switch a')) {
    if (link.dataset.lang === lang) {
      link.setAttribute('aria-current', 'true');
    }
  }

  setStatus('connecting');
  connect();
  textarea.focus();
})();
