// The reports screen (workload, deliveries with fees and pay, on-time rate):
// tables, CSV download and charts. Filled in when the reports API is on this branch.
import { h, fill } from './dom.js';
import { t } from './i18n.js';

export async function mount(root) {
  fill(root, h('div.page', h('p.muted', t('report_unavailable'))));
  root.dataset.ready = 'true';
  return () => {};
}
