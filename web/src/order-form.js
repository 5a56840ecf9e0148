// The order form: create an order, or edit one's address, window and the
// rest before it leaves the depot. The point is picked on a small map (or
// typed); times are the company's. Saving goes through the API, whose
// refusals are shown in the form in words.
import { h, modal } from './dom.js';
import { t, errorText } from './i18n.js';

const L = window.L;

/** Statuses in which the address and the window may still change. */
export const editableStatuses = new Set(['new', 'confirmed', 'awaiting_stock', 'ready', 'planned']);

/**
 * Opens the form; resolves with the saved order, or null. order: the order
 * to edit (absent: a new one). defaults: {date, location} for a new one.
 */
export async function orderForm(ctx, order = null, defaults = {}) {
  const { api, fmt, cfg } = ctx;
  const o = order || {};
  const field = (name, label, { tag = 'input', wide = false, ...attrs } = {}) => {
    const input = h(tag, { name, 'data-testid': 'f-' + name, ...attrs });
    return [input, h('label', { class: wide ? 'wide' : '' }, h('span', label), input)];
  };
  const [ext, extL] = field('external_id', t('external_id'), { value: o.external_id || '', required: !order, maxlength: 100 });
  const [name, nameL] = field('customer_name', t('customer_name'), { value: o.customer?.name || '', required: true });
  const [phone, phoneL] = field('customer_phone', t('phone'), { value: o.customer?.phone || '', type: 'tel', required: true });
  const [email, emailL] = field('customer_email', t('email'), { value: o.customer?.email || '', type: 'email' });
  const [addr, addrL] = field('address', t('address'), { value: o.address || '', required: true, wide: true });
  const ad = o.address_details || {};
  const [ent, entL] = field('entrance', t('entrance'), { value: ad.entrance || '' });
  const [floor, floorL] = field('floor', t('floor'), { value: ad.floor || '' });
  const [apt, aptL] = field('apartment', t('apartment'), { value: ad.apartment || '' });
  const [icom, icomL] = field('intercom', t('intercom'), { value: ad.intercom || '' });
  const [how, howL] = field('address_comment', t('address_comment'), { value: ad.comment || '', wide: true });
  const loc = o.location || defaults.location || null;
  const [lat, latL] = field('lat', t('lat'), { value: loc ? String(loc.lat) : '', inputmode: 'decimal', required: true });
  const [lng, lngL] = field('lng', t('lng'), { value: loc ? String(loc.lng) : '', inputmode: 'decimal', required: true });
  const date0 = o.delivery_date || defaults.date || fmt.isoDate();
  const [date, dateL] = field('delivery_date', t('date'), { type: 'date', value: date0, required: true });
  const [from, fromL] = field('window_from', t('window_from'), { type: 'time', value: o.time_window ? fmt.clock(o.time_window.from) : '' });
  const [to, toL] = field('window_to', t('window_to'), { type: 'time', value: o.time_window ? fmt.clock(o.time_window.to) : '' });
  const [kg, kgL] = field('weight_kg', t('weight_kg'), { type: 'number', min: 0, step: 0.1, value: o.weight_kg ?? '' });
  const [vol, volL] = field('volume_l', t('volume_l'), { type: 'number', min: 0, step: 0.1, value: o.volume_l ?? '' });
  const [svc, svcL] = field('service_minutes', t('service_minutes'), { type: 'number', min: 0, step: 1, value: o.service_minutes ?? '' });
  const [amount, amountL] = field('cod_amount', t('cod_amount'), { inputmode: 'decimal', value: o.cod && o.cod.method !== 'prepaid' ? fmt.amountInput(o.cod.amount) : '' });
  const method = h('select', { name: 'cod_method', 'data-testid': 'f-cod_method' },
    ['prepaid', 'cash', 'card'].map((m) => h('option', { value: m, selected: (o.cod?.method || 'prepaid') === m }, t('pay_' + m))));
  const [notes, notesL] = field('notes', t('notes'), { tag: 'textarea', value: o.notes || '', wide: true, rows: 2 });
  notes.value = o.notes || '';

  // A small map to pick the point: a click moves the pin.
  const pickEl = h('div.pick-map', { 'data-testid': 'pick-map' });
  const body = h('div.form.order-form',
    h('div.grid', order ? null : extL, nameL, phoneL, emailL, addrL, entL, floorL, aptL, icomL, howL),
    h('p.hint', t('location_hint')), pickEl, h('div.grid', latL, lngL),
    h('div.grid', dateL, fromL, toL, kgL, volL, svcL, amountL, h('label', h('span', t('cod_method')), method), notesL));
  let pick = null;
  setTimeout(() => {
    if (!L || !pickEl.isConnected) return;
    const start = loc ? [loc.lat, loc.lng] : [55.75, 37.62];
    pick = L.map(pickEl, { zoomControl: true, attributionControl: false }).setView(start, loc ? 14 : 10);
    if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 19 }).addTo(pick);
    const pin = L.circleMarker(start, { radius: 8, color: '#fff', weight: 2, fillColor: '#1c2430', fillOpacity: 1, className: 'pick-pin' }).addTo(pick);
    pick.on('click', (e) => {
      pin.setLatLng(e.latlng);
      lat.value = e.latlng.lat.toFixed(6);
      lng.value = e.latlng.lng.toFixed(6);
    });
  }, 0);

  const num = (el) => (el.value === '' ? undefined : Number(el.value));
  function read() {
    const b = {
      customer: { name: name.value.trim(), phone: phone.value.trim(), email: email.value.trim() },
      address: addr.value.trim(),
      address_details: { entrance: ent.value.trim(), floor: floor.value.trim(), apartment: apt.value.trim(), intercom: icom.value.trim(), comment: how.value.trim() },
      location: { lat: Number(lat.value.replace(',', '.')), lng: Number(lng.value.replace(',', '.')) },
      delivery_date: date.value,
      notes: notes.value.trim(),
    };
    if (!order) b.external_id = ext.value.trim();
    b.time_window = from.value && to.value ? { from: fmt.zoned(date.value, from.value), to: fmt.zoned(date.value, to.value) } : null;
    if (num(kg) !== undefined) b.weight_kg = num(kg);
    if (num(vol) !== undefined) b.volume_l = num(vol);
    if (num(svc) !== undefined) b.service_minutes = num(svc);
    const m = method.value;
    const minor = m === 'prepaid' ? 0 : fmt.parseMoney(amount.value);
    b.cod = { amount: minor ?? 0, currency: o.cod?.currency || fmt.currency, method: m };
    if (order) {
      // Only what changed, with the version read.
      const out = { version: order.version };
      const same = (a, c) => JSON.stringify(a) === JSON.stringify(c);
      const was = {
        customer: order.customer, address: order.address, address_details: order.address_details, location: order.location,
        delivery_date: order.delivery_date, notes: order.notes, weight_kg: order.weight_kg, volume_l: order.volume_l,
        service_minutes: order.service_minutes, cod: order.cod,
        time_window: order.time_window ? { from: new Date(order.time_window.from).toISOString().replace('.000Z', 'Z'), to: new Date(order.time_window.to).toISOString().replace('.000Z', 'Z') } : null,
      };
      for (const [k, v] of Object.entries(b)) if (!same(v, was[k])) out[k] = v;
      return out;
    }
    if (!b.time_window) delete b.time_window;
    return b;
  }

  try {
    return await modal(order ? `${t('edit_order')} ${order.external_id || '#' + order.id}` : t('new_order'), body, [
      {
        label: t('save'), kind: 'primary', testid: 'order-save', submit: true,
        run: async () => {
          const payload = read();
          return order ? api.patch(`/api/v1/orders/${order.id}`, payload) : api.post('/api/v1/orders', payload);
        },
      },
    ], { cancelLabel: t('cancel'), errorText, className: 'wide' });
  } finally {
    pick?.remove();
  }
}
