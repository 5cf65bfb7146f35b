/**
 * The small status page for technicians: one HTML document that polls
 * /status and /decisions every two seconds. Text is inserted with textContent only, so names
 * from the cache cannot inject markup.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.2em 0 .3em}
table{border-collapse:collapse}td,th{padding:.15em .8em .15em 0;text-align:left}
.bad{color:#b00020;font-weight:600}.ok{color:#1b5e20}#err{color:#b00020}
</style></head><body>
<h1>Gatehouse <span id="gw"></span></h1><div id="summary"></div><div id="err"></div>
<h2>Doors</h2><table id="doors"></table>
<h2>Readers</h2><table id="readers"></table>
<h2>On site</h2><table id="onsite"></table>
<h2>Last decisions</h2><table id="decisions"></table>
<script>
const q = new URLSearchParams(location.search).get('token');
const opts = q ? { headers: { authorization: 'Bearer ' + q } } : {};
function rows(id, items, cells) {
  const t = document.getElementById(id);
  t.replaceChildren();
  for (const item of items) {
    const tr = document.createElement('tr');
    for (const [text, cls] of cells(item)) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.append(td); }
    t.append(tr);
  }
}
async function refresh() {
  try {
    const r = await fetch('status', opts);
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const s = await r.json();
    document.getElementById('gw').textContent = s.gateway.id + ' (' + s.gateway.siteId + ')';
    document.getElementById('summary').textContent = 'cache v' + s.cache.version + (s.cache.stale ? ' STALE' : '') + ' · ' + s.journal.pending + ' event(s) queued · broker ' + s.uplink.state + ' · ' + s.occupancy.count + ' on site';
    rows('doors', s.doors, (d) => [[d.name], [d.state, d.state === 'unlocked' ? 'bad' : 'ok'], [d.mode], ['relay ' + d.relay.state, d.relay.state === 'online' ? 'ok' : 'bad']]);
    rows('readers', s.readers, (x) => [[x.id], [x.mode], [x.device.state, x.device.state === 'online' ? 'ok' : 'bad'], [x.device.lastError || '']]);
    rows('onsite', s.occupancy.people, (p) => [[p.name], [p.since]]);
    const d = await fetch('decisions', opts);
    if (!d.ok) throw new Error('HTTP ' + d.status);
    rows('decisions', await d.json(), (e) => [[e.at.slice(11, 19)], [e.reader], [e.outcome, e.outcome === 'granted' ? 'ok' : 'bad'], [e.reason], [e.name || e.person || e.fingerprint], [e.checkin === 'none' ? '' : e.checkin]]);
    document.getElementById('err').textContent = '';
  } catch (e) {
    document.getElementById('err').textContent = 'cannot reach the daemon: ' + e.message;
  }
}
refresh();
setInterval(refresh, 2000);
</script></body></html>
`;
