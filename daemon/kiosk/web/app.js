// The kiosk page: pairing, PIN pad, QR scanning, registration and result
// screens, all through the gateway's kiosk API (/api/v1). The only thing
// kept in the browser is this kiosk's own token.
const TOKEN_KEY = 'gatehouse.kiosk.token';
const PIN_LENGTH = 5;
const PAIRING_LENGTH = 8;
const SCAN_POLL_MS = 1500;
const IDLE_RESET_MS = 60_000;

const $ = (id) => document.getElementById(id);
const screens = ['pair', 'home', 'scan', 'register', 'result'];

const state = {
  kiosk: null,
  pin: '',
  pairing: '',
  stopScan: null,
  resetTimer: null,
  idleTimer: null,
  scansAfter: 0,
  hostId: null,
  busy: false,
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    $('connection').hidden = false;
    throw new ApiError(0, 'unreachable', 'The gateway cannot be reached. Please try again in a moment.');
  }
  $('connection').hidden = true;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error ?? { code: 'error', message: `HTTP ${response.status}` };
    if (response.status === 401 && path !== '/pair') {
      localStorage.removeItem(TOKEN_KEY);
      showPairing(error.code === 'kiosk_revoked' ? 'This kiosk was unpaired. Ask a technician for a new pairing code.' : '');
    }
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

function show(name) {
  for (const s of screens) $(`screen-${s}`).hidden = s !== name;
  if (name !== 'scan' && state.stopScan !== null) {
    state.stopScan();
    state.stopScan = null;
  }
  const first = $(`screen-${name}`).querySelector('[autofocus], input, button');
  if (name === 'register' && first !== null) first.focus();
  document.body.dataset.screen = name;
}

// ---- keypads ------------------------------------------------------------

function buildKeypad(container, onKey) {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'];
  for (const key of keys) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.key = key;
    if (key === 'clear') {
      button.textContent = 'Clear';
      button.className = 'key-wide';
      button.setAttribute('aria-label', 'Clear all digits');
    } else if (key === 'back') {
      button.textContent = '⌫';
      button.setAttribute('aria-label', 'Delete last digit');
    } else {
      button.textContent = key;
      button.setAttribute('aria-label', `Digit ${key}`);
    }
    button.addEventListener('click', () => onKey(key));
    container.append(button);
  }
}

const edit = (value, key, max) => (key === 'clear' ? '' : key === 'back' ? value.slice(0, -1) : value.length < max ? value + key : value);

function renderPin() {
  $('pin-display').textContent = '●'.repeat(state.pin.length) + '○'.repeat(PIN_LENGTH - state.pin.length);
  $('pin-display').setAttribute('aria-label', `${state.pin.length} of ${PIN_LENGTH} digits entered`);
}

function renderPairing() {
  const c = state.pairing.padEnd(PAIRING_LENGTH, '–');
  $('pair-display').textContent = `${c.slice(0, 4)} ${c.slice(4)}`;
  $('pair-display').setAttribute('aria-label', `${state.pairing.length} of ${PAIRING_LENGTH} digits entered`);
}

function onPinKey(key) {
  if (state.busy) return;
  $('home-error').textContent = '';
  state.pin = edit(state.pin, key, PIN_LENGTH);
  renderPin();
  touch();
  if (state.pin.length === PIN_LENGTH) {
    const code = state.pin;
    state.pin = '';
    void checkIn({ method: 'pin', code });
  }
}

function onPairKey(key) {
  if (state.busy) return;
  $('pair-error').textContent = '';
  state.pairing = edit(state.pairing, key, PAIRING_LENGTH);
  renderPairing();
  if (state.pairing.length === PAIRING_LENGTH) {
    const code = state.pairing;
    state.pairing = '';
    void pair(code);
  }
}

// ---- pairing ------------------------------------------------------------

function showPairing(message) {
  state.kiosk = null;
  $('site-name').textContent = 'Check-in';
  $('pair-error').textContent = message ?? '';
  state.pairing = '';
  renderPairing();
  show('pair');
}

async function pair(code) {
  state.busy = true;
  try {
    const result = await api('POST', '/pair', { code });
    localStorage.setItem(TOKEN_KEY, result.token);
    start(result.kiosk);
  } catch (error) {
    $('pair-error').textContent = error.code === 'pairing_refused' ? 'That code is wrong, used or expired. Ask for a new one.' : error.message;
    renderPairing();
  } finally {
    state.busy = false;
  }
}

// ---- home, check-in, results -------------------------------------------

function start(kiosk) {
  state.kiosk = kiosk;
  state.scansAfter = kiosk.scansAfter;
  $('site-name').textContent = kiosk.site;
  $('register-button').hidden = kiosk.registration === 'off';
  $('reg-submit').textContent = kiosk.registration === 'register-and-checkin' ? 'Register and check in' : 'Register';
  $('reg-terms-text').textContent = kiosk.terms;
  home();
}

function home() {
  clearTimeout(state.resetTimer);
  state.pin = '';
  renderPin();
  $('home-error').textContent = '';
  show('home');
}

function touch() {
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(() => {
    if (state.kiosk !== null && document.body.dataset.screen !== 'pair') home();
  }, IDLE_RESET_MS);
}

function showResult(result) {
  const screen = $('screen-result');
  screen.classList.toggle('granted', result.outcome === 'granted' || result.outcome === 'registered');
  screen.classList.toggle('denied', !(result.outcome === 'granted' || result.outcome === 'registered'));
  screen.dataset.outcome = result.outcome;
  screen.dataset.reason = result.reason;
  $('result-title').textContent = result.title;
  $('result-detail').textContent = result.detail;
  $('result-next').textContent = result.next;
  show('result');
  $('result-done').focus();
  clearTimeout(state.resetTimer);
  state.resetTimer = setTimeout(home, (state.kiosk?.resultSeconds ?? 6) * 1000);
}

async function checkIn(body) {
  state.busy = true;
  try {
    showResult(await api('POST', '/checkin', body));
  } catch (error) {
    if (error.status === 401) return;
    renderPin();
    show('home');
    $('home-error').textContent = error.status === 429 ? 'Too many attempts. Please wait a moment.' : error.message;
  } finally {
    state.busy = false;
  }
}

async function pollScans() {
  if (state.kiosk !== null && document.body.dataset.screen === 'home' && !state.busy) {
    try {
      const data = await api('GET', `/scans?after=${state.scansAfter}`);
      state.scansAfter = data.latest;
      const last = data.scans.at(-1);
      if (last !== undefined && document.body.dataset.screen === 'home') showResult(last.result);
    } catch {
      // Shown by the connection banner; the next poll retries.
    }
  }
  setTimeout(pollScans, SCAN_POLL_MS);
}

// ---- QR with the camera ------------------------------------------------

async function scan() {
  touch();
  $('scan-hint').textContent = 'Hold the QR code from your registration email up to the camera.';
  show('scan');
  try {
    const { startScanning } = await import('/qr-scanner.js');
    state.stopScan = startScanning(
      $('scan-video'),
      (text) => {
        state.stopScan = null;
        void checkIn({ method: 'qr', content: text });
      },
      (message) => {
        $('scan-hint').textContent = message;
      },
    );
  } catch {
    $('scan-hint').textContent = 'The QR reader could not be loaded. Use the PIN pad instead.';
  }
}

// ---- registration ------------------------------------------------------

let hostSearch = 0;

function register() {
  touch();
  $('register-form').reset();
  $('reg-host-list').replaceChildren();
  $('reg-host-chosen').textContent = '';
  $('reg-error').textContent = '';
  state.hostId = null;
  show('register');
}

async function searchHosts() {
  touch();
  state.hostId = null;
  $('reg-host-chosen').textContent = '';
  const q = $('reg-host').value.trim();
  const ticket = ++hostSearch;
  if (q.length < 2) {
    $('reg-host-list').replaceChildren();
    $('reg-host').setAttribute('aria-expanded', 'false');
    return;
  }
  try {
    const { hosts } = await api('GET', `/hosts?q=${encodeURIComponent(q)}`);
    if (ticket !== hostSearch) return;
    const items = hosts.map((host, index) => {
      const li = document.createElement('li');
      li.id = `host-${index}`;
      li.role = 'option';
      li.tabIndex = 0;
      li.textContent = host.name;
      li.setAttribute('aria-selected', 'false');
      const choose = () => chooseHost(host, li);
      li.addEventListener('click', choose);
      li.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          choose();
        }
      });
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement('li');
      li.textContent = 'Nobody by that name. Check the spelling, or ask at the front desk.';
      li.setAttribute('aria-disabled', 'true');
      items.push(li);
    }
    $('reg-host-list').replaceChildren(...items);
    $('reg-host').setAttribute('aria-expanded', 'true');
  } catch (error) {
    $('reg-error').textContent = error.message;
  }
}

function chooseHost(host, li) {
  state.hostId = host.id;
  for (const other of $('reg-host-list').children) other.setAttribute('aria-selected', String(other === li));
  $('reg-host').value = host.name;
  $('reg-host-list').replaceChildren();
  $('reg-host').setAttribute('aria-expanded', 'false');
  $('reg-host-chosen').textContent = `Visiting ${host.name}`;
}

async function submitRegistration(event) {
  event.preventDefault();
  touch();
  const name = $('reg-name').value.trim();
  const email = $('reg-email').value.trim();
  const problems = [];
  if (name.length < 2) problems.push('your full name');
  if (!$('reg-email').checkValidity() || email === '') problems.push('a valid email');
  if (state.hostId === null) problems.push('who you are visiting (choose from the list)');
  if (!$('reg-terms').checked) problems.push('that you accept the terms');
  if (problems.length > 0) {
    $('reg-error').textContent = `Please give ${problems.join(', ')}.`;
    return;
  }
  if (state.busy) return;
  state.busy = true;
  try {
    showResult(await api('POST', '/registrations', { name, email, hostId: state.hostId, termsAccepted: true }));
  } catch (error) {
    if (error.status !== 401) $('reg-error').textContent = error.message;
  } finally {
    state.busy = false;
  }
}

// ---- physical keyboards and scanners attached to the tablet ----------------

let typed = '';
document.addEventListener('keydown', (event) => {
  const screen = document.body.dataset.screen;
  if (screen !== 'home' && screen !== 'pair') return;
  if (/^\d$/.test(event.key) && typed === '') {
    (screen === 'home' ? onPinKey : onPairKey)(event.key);
  } else if (event.key === 'Backspace') {
    (screen === 'home' ? onPinKey : onPairKey)('back');
  } else if (screen === 'home' && event.key === 'Enter' && typed !== '') {
    // A scanner that types what it reads, ending with Enter: a QR content.
    const content = typed;
    typed = '';
    void checkIn({ method: 'qr', content });
  } else if (screen === 'home' && event.key.length === 1) {
    typed += event.key;
  }
});

// ---- start ---------------------------------------------------------------

buildKeypad(document.querySelector('[data-keypad=pin]'), onPinKey);
buildKeypad(document.querySelector('[data-keypad=pair]'), onPairKey);
$('scan-button').addEventListener('click', () => void scan());
$('scan-cancel').addEventListener('click', home);
$('register-button').addEventListener('click', register);
$('reg-cancel').addEventListener('click', home);
$('reg-host').addEventListener('input', () => void searchHosts());
$('register-form').addEventListener('submit', (event) => void submitRegistration(event));
$('result-done').addEventListener('click', home);

async function boot() {
  if (localStorage.getItem(TOKEN_KEY) === null) {
    showPairing('');
  } else {
    try {
      start(await api('GET', '/kiosk'));
    } catch (error) {
      if (error.status !== 401) {
        $('pair-error').textContent = error.message;
        setTimeout(boot, 3000);
      }
      return;
    }
  }
  setTimeout(pollScans, SCAN_POLL_MS);
}
void boot();
