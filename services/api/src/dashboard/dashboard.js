// The Flagship dashboard's behaviour, one ES module with no dependencies. It uses only the
// public HTTP API (packages/common/src/http-api.ts), with relative URLs so that it also
// works behind a path prefix:
//   POST   v1/downloads                 submit chosen codes, or every country
//   GET    v1/downloads/:id/events      follow one download live: `status`, `progress`
//                                      (new outcomes), then `completed`, `failed` or
//                                      `cancelled`
//   GET    v1/flags/:file               the saved flags of the gallery
//   GET    v1/downloads?limit=20        the recent downloads (refreshed every few seconds)
//   DELETE v1/downloads/:id             cancel a queued or running download
// Every value from the API reaches the page through textContent or an attribute, never
// as HTML.
//
// API keys: a key given in the page is kept in sessionStorage (this tab only) and sent as
// `Authorization: Bearer <key>` with every request, the event stream and the flags
// included. That is why the page reads the event stream with fetch (readEventStream),
// not EventSource, and loads each flag with fetch into a blob: URL, not <img src>: those
// two cannot send a header, and a key in a URL would end up in logs and history. One code
// path with a key or without. See "The dashboard" in docs/architecture.md.

/** @typedef {import('@flagship/common').DownloadStatus} DownloadStatus */
/** @typedef {import('@flagship/common').DownloadListItem} DownloadListItem */
/** @typedef {import('@flagship/common').DownloadList} DownloadList */
/** @typedef {import('@flagship/common').DownloadAccepted} DownloadAccepted */
/** @typedef {import('@flagship/common').DownloadState} DownloadState */
/** @typedef {import('@flagship/common').FlagOutcome} FlagOutcome */
/** @typedef {import('@flagship/common').DownloadEvent} DownloadEvent */
/** @typedef {import('@flagship/common').DownloadRequest} DownloadRequest */
/** @typedef {import('@flagship/common').Problem} Problem */
/** @typedef {import('@flagship/common').FieldError} FieldError */
/** @typedef {Pick<DownloadStatus, 'total' | 'done' | 'saved' | 'notFound' | 'failed'>} Counts */

const KEY_STORAGE = 'flagship.apiKey';
const LIST_LIMIT = 20;
const LIST_REFRESH_MS = 5_000;
/** Screen readers hear the progress at most this often (and at once when it ends). */
const ANNOUNCE_EVERY_MS = 3_000;
/** A lost event stream is reopened (with Last-Event-ID) after this long, at most this many times in a row. */
const RECONNECT_MS = 1_000;
const RECONNECT_TRIES = 5;
/** @type {ReadonlySet<DownloadState>} */
const ACTIVE_STATES = new Set(['queued', 'running']);
const CODE_PATTERN = /^[A-Z]{2}$/;
/** @type {Record<DownloadState, string>} */
const STATE_NAMES = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * The page's element with this id, checked to be of the expected kind.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T }} [kind]
 * @returns {T}
 */
function byId(id, kind) {
  const element = document.getElementById(id);
  if (!(element instanceof (kind ?? HTMLElement))) throw new Error(`the page has no ${kind?.name ?? 'element'} #${id}`);
  return /** @type {T} */ (element);
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{ className?: string, text?: string }} [options]
 */
function make(tag, { className, text } = {}) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const shortId = (/** @type {string} */ id) => id.slice(0, 8);
const stateName = (/** @type {DownloadState} */ state) => STATE_NAMES[state] ?? state;
const isActive = (/** @type {DownloadState} */ state) => ACTIVE_STATES.has(state);

// ---------------------------------------------------------------------------- the API

/** An error answer of the API, with its problem+json body when it sent one. */
class ApiError extends Error {
  /** @param {number} status @param {Partial<Problem> | undefined} problem */
  constructor(status, problem) {
    super(problem?.detail ?? `the API answered HTTP ${status}`);
    this.status = status;
    this.code = problem?.code;
    /** @type {FieldError[]} */
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

/** The Authorization header when a key is set. @returns {Record<string, string>} */
function authorization() {
  const key = apiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** The ApiError of an answer that is not 2xx, with its problem+json when it has one. @param {Response} response */
async function errorOf(response) {
  return new ApiError(response.status, await response.json().catch(() => undefined));
}

/**
 * One request to the API; an error answer throws ApiError. The type of the answer is the
 * caller's to name (the API serializes every answer with its schema in http-api.ts).
 * @template T
 * @param {string} path relative to the page, e.g. `v1/downloads`
 * @param {{ method?: string, body?: DownloadRequest }} [options]
 * @returns {Promise<T>}
 */
async function api(path, { method = 'GET', body } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json, application/problem+json', ...authorization() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

/**
 * One event of a text/event-stream: its name (`message` when it has none), its data
 * lines joined, and its id when it has one.
 * @typedef {{ event: string, data: string, id: string | undefined }} StreamEvent
 */

/**
 * Reads an event stream to its end, as EventSource would, but with the page's headers
 * (the key, Last-Event-ID). Resolves when the server ends the stream; rejects with
 * ApiError when it refuses to open it, and with the fetch's error on a network error or
 * when `signal` aborts.
 * @param {string} path
 * @param {{ lastEventId?: string | undefined, signal: AbortSignal, onEvent: (event: StreamEvent) => void }} options
 */
async function readEventStream(path, { lastEventId, signal, onEvent }) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'text/event-stream', ...authorization() };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const response = await fetch(path, { headers, signal, cache: 'no-store' });
  if (!response.ok || !response.body) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  /** @type {StreamEvent} */
  let event = { event: 'message', data: '', id: undefined };
  /** @type {string[]} */
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const lines = (pending + value).split(/\r?\n/);
    pending = lines.pop() ?? ''; // an unfinished line waits for the next chunk
    for (const line of lines) {
      if (line === '') {
        // A blank line ends an event; one without data (a heartbeat, a lone id) is not dispatched.
        if (data.length > 0) onEvent({ ...event, data: data.join('\n') });
        event = { event: 'message', data: '', id: undefined };
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: the server's heartbeat
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.event = text;
      else if (field === 'data') data.push(text);
      else if (field === 'id') event.id = text;
    }
  }
}

/** @param {number} ms @param {AbortSignal} signal resolves early when aborted */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
  });
}

// ---------------------------------------------------------------------------- messages

const notice = byId('notice');
const alertBox = byId('alert');

/** @param {string} text */
function say(text) {
  alertBox.textContent = '';
  notice.textContent = text;
}

const messageOf = (/** @type {unknown} */ error) => (error instanceof Error ? error.message : String(error));
const isRefusal = (/** @type {unknown} */ error) =>
  error instanceof ApiError && (error.status === 401 || error.status === 403);

/** Opens the key form and puts the cursor in it: the API asked for a key (or a stronger one). */
function askForKey() {
  byId('api-key', HTMLDetailsElement).open = true;
}

/** @param {unknown} error @param {string} doing */
function complain(error, doing) {
  notice.textContent = '';
  const why = messageOf(error);
  if (isRefusal(error)) {
    alertBox.textContent = `Could not ${doing}: ${why}. Give an API key with that scope under “API key”.`;
    askForKey();
  } else {
    alertBox.textContent = `Could not ${doing}: ${why}`;
  }
}

// ---------------------------------------------------------------------------- progress

const progress = {
  idle: byId('progress-idle'),
  panel: byId('progress-panel'),
  id: byId('progress-id'),
  state: byId('progress-state'),
  bar: byId('progress-bar', HTMLProgressElement),
  count: byId('progress-count'),
  saved: byId('progress-saved'),
  notFound: byId('progress-not-found'),
  failed: byId('progress-failed'),
  message: byId('progress-message'),
  cancel: byId('progress-cancel', HTMLButtonElement),
  live: byId('progress-live'),
};

/** @type {ReturnType<typeof setTimeout> | undefined} */
let announceTimer;
let lastAnnounced = 0;

/** Tells screen readers the progress, throttled so that a large download does not flood them. */
function announce(/** @type {string} */ text, immediately = false) {
  clearTimeout(announceTimer);
  const wait = immediately ? 0 : Math.max(0, lastAnnounced + ANNOUNCE_EVERY_MS - Date.now());
  announceTimer = setTimeout(() => {
    progress.live.textContent = text;
    lastAnnounced = Date.now();
  }, wait);
}

/** @param {Counts} counts @returns {Counts} */
const countsOf = ({ total, done, saved, notFound, failed }) => ({ total, done, saved, notFound, failed });

/** @param {Counts} counts */
function showCounts(counts) {
  progress.bar.max = Math.max(counts.total, 1);
  progress.bar.value = counts.done;
  progress.count.textContent = `${counts.done}/${counts.total}`;
  progress.saved.textContent = String(counts.saved);
  progress.notFound.textContent = String(counts.notFound);
  progress.failed.textContent = String(counts.failed);
}

/** @param {DownloadState} state */
function showState(state) {
  progress.state.textContent = stateName(state);
  progress.state.dataset.state = state;
  progress.cancel.hidden = !isActive(state);
}

// ---------------------------------------------------------------------------- gallery and failures

const gallery = byId('gallery');
const galleryEmpty = byId('gallery-empty');
const galleryCount = byId('gallery-count');
const failures = byId('failures');
const failuresEmpty = byId('failures-empty');
const failuresCount = byId('failures-count');

function clearOutcomes() {
  gallery.replaceChildren();
  for (const url of imageUrls) URL.revokeObjectURL(url);
  imageUrls = [];
  failures.replaceChildren();
  updateOutcomeCounts();
}

function updateOutcomeCounts() {
  const saved = gallery.childElementCount;
  const failed = failures.childElementCount;
  galleryEmpty.hidden = saved > 0;
  galleryCount.textContent = saved > 0 ? `(${saved})` : '';
  failuresEmpty.hidden = failed > 0;
  failuresCount.textContent = failed > 0 ? `(${failed})` : '';
}

/** @param {FlagOutcome} outcome */
function addFlag(outcome) {
  const country = outcome.country ?? outcome.code;
  const item = make('li');
  item.dataset.code = outcome.code;
  const figure = make('figure');
  const image = make('img');
  image.alt = `Flag of ${country}`;
  image.decoding = 'async';
  const caption = make('figcaption', { text: country });
  figure.append(image, caption);
  item.append(figure);
  gallery.append(item);
  void showFlagImage(image, outcome.file ?? '', caption);
}

/** Object URLs of the gallery's images, released when the gallery is cleared. @type {string[]} */
let imageUrls = [];

/**
 * Loads a saved flag with the page's key and shows it from a blob: URL (an <img src>
 * cannot send the key). A flag that cannot be loaded says why under its name.
 * @param {HTMLImageElement} image @param {string} file @param {HTMLElement} caption
 */
async function showFlagImage(image, file, caption) {
  try {
    const response = await fetch(`v1/flags/${encodeURIComponent(file)}`, { headers: authorization() });
    if (!response.ok) throw await errorOf(response);
    const url = URL.createObjectURL(await response.blob());
    imageUrls.push(url);
    image.src = url;
  } catch (error) {
    image.closest('li')?.classList.add('broken');
    caption.append(make('span', { className: 'image-error', text: ` (image not loaded: ${messageOf(error)})` }));
  }
}

/** @param {FlagOutcome} outcome */
function addFailure(outcome) {
  const item = make('li');
  item.dataset.code = outcome.code;
  const what = outcome.status === 'NOT_FOUND' ? 'not found' : 'failed';
  item.append(make('strong', { text: outcome.code }), ` ${what}: ${outcome.reason ?? 'no reason given'}`);
  failures.append(item);
}

// ---------------------------------------------------------------------------- following a download

/**
 * The download the page follows: its stream's abort, the codes already shown (a reopened
 * stream starts with the whole status again), the last event id, and whether it ended.
 * @typedef {{ id: string, abort: AbortController, seen: Set<string>, lastEventId: string | undefined, ended: boolean }} Followed
 */
/** @type {Followed | undefined} */
let followed;

/** @param {FlagOutcome[]} outcomes */
function addOutcomes(outcomes) {
  if (!followed) return;
  for (const outcome of outcomes) {
    if (followed.seen.has(outcome.code)) continue; // a reconnected stream starts with the whole status again
    followed.seen.add(outcome.code);
    if (outcome.status === 'OK') addFlag(outcome);
    else addFailure(outcome);
  }
  updateOutcomeCounts();
}

/** @param {DownloadStatus} status */
function endedMessage(status) {
  if (status.state !== 'cancelled') return stateName(status.state);
  return `Cancelled with ${status.done} of ${status.total} flags done; the saved flags stay.`;
}

/** A whole DownloadStatus: the stream's first event, its last, or a DELETE's answer. */
function showStatus(/** @type {DownloadStatus} */ status) {
  showCounts(status);
  showState(status.state);
  addOutcomes(status.outcomes);
  if (status.state === 'failed' && status.failedReason && !failures.querySelector('[data-download]')) {
    const item = make('li');
    item.dataset.download = status.id;
    item.append(make('strong', { text: 'The download' }), ` failed: ${status.failedReason}`);
    failures.append(item);
    updateOutcomeCounts();
  }
  updateRow(status.id, { state: status.state, ...countsOf(status) });
  const ended = !isActive(status.state);
  progress.message.textContent = ended ? (status.message ?? endedMessage(status)) : '';
  announce(
    ended
      ? `Download ${stateName(status.state).toLowerCase()}: ${status.done} of ${status.total} flags done, ${status.saved} saved.`
      : `${status.done} of ${status.total} flags done.`,
    ended,
  );
}

/** @param {string} id */
function follow(id) {
  followed?.abort.abort();
  clearOutcomes();
  progress.idle.hidden = true;
  progress.panel.hidden = false;
  progress.id.textContent = id;
  progress.message.textContent = '';
  showCounts({ total: 0, done: 0, saved: 0, notFound: 0, failed: 0 });
  showState('queued');
  /** @type {Followed} */
  const current = { id, abort: new AbortController(), seen: new Set(), lastEventId: undefined, ended: false };
  followed = current;
  void streamDownload(current);
}

/**
 * Reads the download's events until its final one, reopening a lost stream from the last
 * event id (the API replays what was missed). A refusal (an unknown id, a missing key) or
 * too many losses in a row end it, with the status read once, or why not.
 * @param {Followed} current
 */
async function streamDownload(current) {
  const path = `v1/downloads/${encodeURIComponent(current.id)}/events`;
  const { signal } = current.abort;
  let losses = 0;
  while (!current.ended && !signal.aborted) {
    try {
      await readEventStream(path, {
        lastEventId: current.lastEventId,
        signal,
        onEvent(event) {
          losses = 0;
          if (event.id) current.lastEventId = event.id;
          if (followed === current && !current.ended) handleEvent(current, event);
        },
      });
    } catch (error) {
      if (signal.aborted) return; // another download followed, or this one ended
      if (error instanceof ApiError || ++losses > RECONNECT_TRIES) {
        showStatusOnce(current, error);
        return;
      }
    }
    if (!current.ended) await pause(RECONNECT_MS, signal);
  }
}

/** @param {Followed} current @param {unknown} why the stream's error */
function showStatusOnce(current, why) {
  if (isRefusal(why)) {
    complain(why, 'follow the download');
    return;
  }
  api(`v1/downloads/${encodeURIComponent(current.id)}`).then(
    (status) => followed === current && showStatus(/** @type {DownloadStatus} */ (status)),
    (error) => complain(error, 'follow the download'),
  );
}

/** @param {Followed} current @param {StreamEvent} raw */
function handleEvent(current, raw) {
  const event = /** @type {DownloadEvent} */ ({ event: raw.event, data: JSON.parse(raw.data) });
  switch (event.event) {
    case 'status':
      showStatus(event.data);
      break;
    case 'progress': {
      const data = event.data;
      showCounts(data);
      if (data.done > 0 && progress.state.dataset.state === 'queued') showState('running');
      updateRow(current.id, { state: /** @type {DownloadState} */ (progress.state.dataset.state), ...countsOf(data) });
      addOutcomes(data.outcomes);
      announce(`${data.done} of ${data.total} flags done.`);
      break;
    }
    case 'completed':
    case 'failed':
    case 'cancelled':
      current.ended = true;
      current.abort.abort(); // the stream ends here
      showStatus(event.data);
      void refreshRecent();
      break;
  }
}

// ---------------------------------------------------------------------------- cancelling

/** @param {string} id */
async function cancel(id) {
  try {
    /** @type {DownloadStatus} */
    const status = await api(`v1/downloads/${encodeURIComponent(id)}`, { method: 'DELETE' });
    say(`Download ${shortId(id)} is being cancelled.`);
    if (followed?.id === id) showStatus(status);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) say(`Download ${shortId(id)} had already finished.`);
    else complain(error, `cancel download ${shortId(id)}`);
  }
  await refreshRecent();
}

progress.cancel.addEventListener('click', () => {
  if (followed) void cancel(followed.id);
});

// ---------------------------------------------------------------------------- recent downloads

const recentTable = byId('recent', HTMLTableElement);
const recentBody = /** @type {HTMLTableSectionElement} */ (recentTable.tBodies[0]);
const recentStatus = byId('recent-status');
/** @type {Map<string, RowView>} */
const rows = new Map();
/** The list was refused (401, 403): it is not asked for again until a key is given or Refresh is pressed. */
let waitingForKey = false;
let refreshing = false;

/** A button whose name says which download it acts on (the visible text alone repeats on every row). */
function rowButton(/** @type {string} */ label, /** @type {string} */ id, /** @type {string} */ className) {
  const button = make('button', { className });
  button.type = 'button';
  button.dataset.action = label.toLowerCase();
  button.append(label, make('span', { className: 'visually-hidden', text: ` download ${shortId(id)}` }));
  return button;
}

/**
 * One row of the table and the elements a refresh writes to.
 * @typedef {{ item: DownloadListItem, row: HTMLTableRowElement, time: HTMLTimeElement, state: HTMLElement, counts: HTMLTableCellElement[], actions: HTMLTableCellElement }} RowView
 */

/** @param {DownloadListItem} item @returns {RowView} */
function newRow(item) {
  const row = make('tr');
  row.dataset.id = item.id;
  const time = make('time');
  const id = make('code', { text: shortId(item.id) });
  id.title = item.id;
  const state = make('span', { className: 'state' });
  for (const content of [time, id, state]) row.insertCell().append(content);
  const counts = [row.insertCell(), row.insertCell(), row.insertCell(), row.insertCell()];
  const actions = row.insertCell();
  actions.className = 'actions';
  actions.append(rowButton('Watch', item.id, 'small secondary'));
  return { item, row, time, state, counts, actions };
}

/** @param {RowView} view @param {DownloadListItem} item */
function fillRow(view, item) {
  view.item = item;
  view.row.dataset.state = item.state;
  view.time.dateTime = item.createdAt;
  view.time.textContent = new Date(item.createdAt).toLocaleString();
  view.state.textContent = stateName(item.state);
  view.state.dataset.state = item.state;
  const values = [`${item.done}/${item.total}`, item.saved, item.notFound, item.failed];
  view.counts.forEach((cell, index) => (cell.textContent = String(values[index])));
  // The Cancel button comes and goes with the state; a focused one hands focus to Watch.
  const cancelButton = view.actions.querySelector('[data-action="cancel"]');
  const active = isActive(item.state);
  if (active && !cancelButton) view.actions.append(rowButton('Cancel', item.id, 'small danger'));
  if (!active && cancelButton) {
    const hadFocus = cancelButton === document.activeElement;
    cancelButton.remove();
    if (hadFocus) /** @type {HTMLElement | null} */ (view.actions.querySelector('[data-action="watch"]'))?.focus();
  }
}

/**
 * The followed download's row keeps up with its events between two reads of the list.
 * @param {string} id
 * @param {Counts & { state: DownloadState }} live
 */
function updateRow(id, live) {
  const view = rows.get(id);
  if (view) fillRow(view, { ...view.item, ...live });
}

/**
 * Updates the rows in place, keyed by id, so that a refresh keeps keyboard focus:
 * existing rows are only moved when out of order, new ones inserted where they belong.
 * @param {DownloadListItem[]} items newest first
 */
function showRecent(items) {
  const keep = new Set(items.map((item) => item.id));
  for (const [id, view] of rows) {
    if (!keep.has(id)) {
      view.row.remove();
      rows.delete(id);
    }
  }
  items.forEach((item, index) => {
    let view = rows.get(item.id);
    if (!view) {
      view = newRow(item);
      rows.set(item.id, view);
    }
    fillRow(view, item);
    const here = recentBody.rows[index];
    if (here !== view.row) recentBody.insertBefore(view.row, here ?? null);
  });
  recentStatus.textContent = items.length === 0 ? 'No downloads yet.' : '';
}

async function refreshRecent() {
  if (waitingForKey || refreshing) return;
  refreshing = true;
  try {
    /** @type {DownloadList} */
    const list = await api(`v1/downloads?limit=${LIST_LIMIT}`);
    showRecent(list.items);
  } catch (error) {
    if (isRefusal(error)) {
      waitingForKey = true;
      recentStatus.textContent = `This API needs a key to list downloads (${messageOf(error)}): give one under “API key”.`;
      askForKey();
    } else {
      recentStatus.textContent = `Could not read the recent downloads: ${messageOf(error)}`;
    }
  } finally {
    refreshing = false;
  }
}

recentBody.addEventListener('click', (event) => {
  const button = /** @type {HTMLElement} */ (event.target).closest('button');
  const id = button?.closest('tr')?.dataset.id;
  if (!button || !id) return;
  if (button.dataset.action === 'watch') {
    follow(id);
    say(`Following download ${shortId(id)}.`);
    byId('progress-heading').scrollIntoView({ block: 'nearest' });
  } else if (button.dataset.action === 'cancel') {
    void cancel(id);
  }
});

byId('recent-refresh').addEventListener('click', () => {
  waitingForKey = false;
  void refreshRecent();
});

setInterval(() => {
  if (document.visibilityState === 'visible') void refreshRecent();
}, LIST_REFRESH_MS);

// ---------------------------------------------------------------------------- submitting

const form = byId('download-form', HTMLFormElement);
const codesInput = byId('codes', HTMLInputElement);
const scopeAll = byId('scope-all', HTMLInputElement);
const codesError = byId('codes-error');
const submitButton = byId('submit', HTMLButtonElement);

/** @param {string} text empty: no error */
function showCodesError(text) {
  codesError.textContent = text;
  codesError.hidden = text === '';
  if (text) codesInput.setAttribute('aria-invalid', 'true');
  else codesInput.removeAttribute('aria-invalid');
}

/**
 * The request body for the form's choice, or undefined (and the error shown) when the codes are wrong.
 * @returns {DownloadRequest | undefined}
 */
function requestBody() {
  if (scopeAll.checked) return { all: true };
  const codes = [
    ...new Set(
      codesInput.value
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map((code) => code.toUpperCase()),
    ),
  ];
  const wrong = codes.filter((code) => !CODE_PATTERN.test(code));
  if (wrong.length > 0) {
    showCodesError(`Not a two-letter country code: ${wrong.join(', ')}`);
    codesInput.focus();
    return undefined;
  }
  showCodesError('');
  return codes.length > 0 ? { codes } : {};
}

function syncScope() {
  codesInput.disabled = scopeAll.checked;
}
form.addEventListener('change', syncScope);
syncScope();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = requestBody();
  if (!body) return;
  submitButton.disabled = true;
  try {
    /** @type {DownloadAccepted} */
    const accepted = await api('v1/downloads', { method: 'POST', body });
    say(`Download ${shortId(accepted.id)} accepted: ${accepted.total} flags.`);
    follow(accepted.id);
    void refreshRecent();
  } catch (error) {
    const field = error instanceof ApiError ? error.errors.find((e) => e.field.startsWith('/body/codes')) : undefined;
    if (field) {
      showCodesError(`${error instanceof Error ? error.message : error}`);
      codesInput.focus();
    } else {
      complain(error, 'submit the download');
    }
  } finally {
    submitButton.disabled = false;
  }
});

// ---------------------------------------------------------------------------- the API key

const keyForm = byId('key-form', HTMLFormElement);
const keyInput = byId('key', HTMLInputElement);
const keyStatus = byId('key-status');

function showKeyState() {
  keyStatus.textContent = apiKey()
    ? 'A key is set for this tab: every request sends it (Authorization: Bearer).'
    : 'No key: requests go without one (enough when the API has no API_KEYS).';
}

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  keyInput.value = '';
  showKeyState();
  waitingForKey = false;
  void refreshRecent();
});

byId('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyState();
  keyInput.focus();
});

showKeyState();
void refreshRecent();
