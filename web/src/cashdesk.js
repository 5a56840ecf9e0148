// The cashier's screen (placeholder until the cash desk API lands).
import { h, fill } from './dom.js';
import { t } from './i18n.js';

export async function mount(root) {
  fill(root, h('div.page', h('p', t('cashdesk_unavailable'))));
  return () => {};
}
