// The couriers table: search (name, phone, login), active filter, vehicle
// and capacity, shift, zones and the last known position.
import { h, fill, toast } from './dom.js';
import { t, tn } from './i18n.js';

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const zones = await api.get('/api/v1/zones');
  const zoneName = new Map((zones.features || []).map((z) => [z.id, z.properties.name]));
  const q = h('input', { type: 'search', placeholder: t('search_couriers'), 'aria-label': t('search'), 'data-testid': 'couriers-q', style: { width: '18em' } });
  const active = h('select', { 'aria-label': t('active'), 'data-testid': 'couriers-active' },
    h('option', { value: '' }, t('active') + ': ' + t('all')), h('option', { value: 'true' }, t('yes')), h('option', { value: 'false' }, t('no')));
  const tbody = h('tbody');
  const count = h('span.muted', { 'data-testid': 'couriers-count' });
  fill(root, h('div.page',
    h('form.filters', { on: { submit: (e) => { e.preventDefault(); load(); } } }, q, active, h('button.primary', { type: 'submit' }, t('search')), count),
    h('div.table-wrap', h('table.grid', { 'data-testid': 'couriers-table' },
      h('thead', h('tr', [t('courier'), t('phone'), t('login_name'), t('vehicle'), t('capacity'), t('shift'), t('zones'), t('active'), t('position')].map((c) => h('th', { scope: 'col' }, c)))),
      tbody))));

  let positions = new Map();
  let seq = 0;
  async function load() {
    const my = ++seq;
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (active.value) p.set('active', active.value);
    try {
      const [list, pos] = await Promise.all([
        api.get('/api/v1/couriers?' + p),
        ctx.api.role === 'courier' ? { items: [] } : api.get('/api/v1/tracking/positions').catch(() => ({ items: [] })),
      ]);
      if (my !== seq) return;
      positions = new Map((pos.items || []).map((x) => [x.courier_id, x]));
      tbody.replaceChildren(...list.items.map(row));
      count.textContent = String(list.items.length);
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  function row(c) {
    const v = c.vehicle || {};
    const cap = [v.capacity_kg ? fmt.kg(v.capacity_kg) : '', v.capacity_l ? fmt.litres(v.capacity_l) : '', v.max_stops ? tn('stops_n', v.max_stops) : ''].filter(Boolean).join(' · ');
    const p = positions.get(c.id);
    const stale = p && (p.stale || Date.now() - new Date(p.recorded_at).getTime() > (cfg.stale_after_s || 300) * 1000);
    return h('tr', { 'data-courier-id': c.id, class: c.active ? '' : 'inactive' },
      h('td', h('b', c.name)), h('td.nowrap', c.phone), h('td', c.login), h('td', v.type || ''), h('td.nowrap', cap),
      h('td.nowrap', c.shift ? `${c.shift.start}–${c.shift.end}` : ''),
      h('td', (c.zone_ids || []).map((id) => zoneName.get(id) || '#' + id).join(', ') || t('any')),
      h('td', c.active ? t('yes') : t('no')),
      h('td', p ? h('span', { class: stale ? 'muted' : 'ok' }, `${fmt.time(p.recorded_at)}${stale ? ' · ' + t('stale') : ''}`) : h('span.muted', t('never_seen'))));
  }

  let debounce;
  q.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(load, 300); });
  active.addEventListener('change', load);
  await load();
  q.focus();
  root.dataset.ready = 'true';
  return () => clearTimeout(debounce);
}
