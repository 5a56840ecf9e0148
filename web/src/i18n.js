// The console's words in the company language (ru, en). t('key', {n: 1})
// fills {n}; a key missing in a language falls back to English.

const en = {
  app: 'Courier console',
  login: 'Log in', login_name: 'Login', password: 'Password', logout: 'Log out', login_failed: 'Login failed',
  nav_map: 'Map', nav_orders: 'Orders', nav_couriers: 'Couriers', nav_cashdesk: 'Cash desk',
  date: 'Date', depot: 'Depot', search: 'Search', all: 'All', any: 'any', none: 'none', close: 'Close', cancel: 'Cancel', save: 'Save',
  delete: 'Delete', edit: 'Edit', reload: 'Reload', load_more: 'Load more', loading: 'Loading…', yes: 'yes', no: 'no',
  // planning
  planning: 'Planning', time_limit: 'Time limit, s', plan_day: 'Plan the day', planning_running: 'Planning…',
  plan_done: 'Plan ready: {sheets} route sheets, {unassigned} orders left out', plan_failed: 'Planning failed: {error}',
  publish: 'Publish', published: 'Published {n} route sheets', unassigned: 'Left out',
  // sheets
  sheets: 'Route sheets', no_sheets: 'No route sheets for this date yet.', stops: 'stops', stop: 'Stop', print_pdf: 'PDF',
  move_up: 'Move up', move_down: 'Move down', move_to: 'Move to…', lock: 'Lock', unlock: 'Unlock', locked: 'locked',
  late: 'late', over_capacity: 'over capacity', violations: 'Rule violations', force_move: 'Move anyway',
  move_refused: 'The move breaks rules', moved: 'Stop moved', moved_forced: 'Stop moved with {n} violations',
  stale_version: 'The sheet changed meanwhile; reloaded', drop_nowhere: 'Drop the stop on another route or stop',
  status_draft: 'draft', status_published: 'published', status_active: 'on the road', status_completed: 'completed', status_discarded: 'discarded',
  // zones
  zones: 'Zones', new_zone: 'New zone', draw_hint: 'Click the map to add corners; Enter or “Finish” closes the polygon, Esc cancels.',
  finish: 'Finish', zone_name: 'Name', zone_color: 'Colour', zone_saved: 'Zone saved', zone_deleted: 'Zone deleted',
  edit_hint: 'Drag the corners, then save.', need_3: 'A zone needs at least 3 corners',
  // legend and map
  legend: 'Legend', couriers_live: 'Couriers', stale: 'no signal', last_seen: 'last seen', depot_marker: 'Depot',
  // orders
  orders: 'Orders', order: 'Order', status: 'Status', zone: 'Zone', courier: 'Courier', customer: 'Customer', phone: 'Phone', address: 'Address',
  window: 'Window', weight: 'Weight', cod: 'Payment', history: 'History', search_orders: 'Order number, phone or name',
  no_orders: 'No orders match.', order_events: 'Timeline',
  ev_created: 'created', ev_updated: 'changed', ev_status: 'status', ev_payment: 'payment', ev_arrived: 'courier arrived',
  door_report: 'At the door', arrived_at: 'Arrived', finished_at: 'Finished', recipient: 'Received by', amount_due: 'Due at the door',
  collected: 'Collected', short_at_door: 'Short at the door', refused_goods: 'Refused goods', fail_reason: 'Not delivered',
  wished_date: 'Customer asked for', proof_signature: 'Signature', proof_photo: 'Photo', proof_missing: 'proof not available',
  fail_no_answer: 'nobody answered', fail_refused: 'refused', fail_wrong_address: 'wrong address', fail_damaged: 'damaged',
  fail_customer_absent: 'customer absent', fail_reschedule: 'asked for another day', fail_handed_back: 'handed back at the end of the shift',
  // couriers
  couriers: 'Couriers', vehicle: 'Vehicle', capacity: 'Capacity', shift: 'Shift', active: 'Active', position: 'Position',
  search_couriers: 'Name, phone or login', never_seen: 'no position yet',
  // cash desk
  cashdesk: 'Cash desk', scan: 'Scan a route sheet', scan_hint: 'Scan the barcode (or type the number and press Enter)',
  sheet: 'Route sheet', expected: 'Expected', counted: 'Counted', difference: 'Difference', shortage: 'Shortage', surplus: 'Surplus',
  exact: 'Exact', confirm: 'Confirm', settle: 'Accept cash', settled: 'Cash accepted', note: 'Note', balances: 'Courier balances',
  owed: 'Owes', goods: 'Goods', shift_open: 'Open shift', shift_close: 'Close shift', shift_report: 'Shift report', no_shift: 'No shift is open',
  shift_opened: 'Shift opened', cash_in: 'Cash in', settlements: 'Settlements', discrepancies: 'Discrepancies', nothing_to_settle: 'Nothing to settle on this sheet',
  state_pending: 'not delivered', state_to_settle: 'to settle', state_settled: 'settled', state_card: 'card', state_prepaid: 'prepaid',
  state_goods_due: 'goods due', state_returned: 'returned', state_none: '—', outstanding: 'Outstanding', keyboard_hint: 'Enter: next step · Esc: back to the scanner',
  balance_zero: 'Settled in full', reported: 'Reported', cashdesk_unavailable: 'The cash desk is not available on this server yet.',
};

const ru = {
  app: 'Консоль доставки',
  login: 'Войти', login_name: 'Логин', password: 'Пароль', logout: 'Выйти', login_failed: 'Не удалось войти',
  nav_map: 'Карта', nav_orders: 'Заказы', nav_couriers: 'Курьеры', nav_cashdesk: 'Касса',
  date: 'Дата', depot: 'Склад', search: 'Поиск', all: 'Все', any: 'любой', none: 'нет', close: 'Закрыть', cancel: 'Отмена', save: 'Сохранить',
  delete: 'Удалить', edit: 'Изменить', reload: 'Обновить', load_more: 'Ещё', loading: 'Загрузка…', yes: 'да', no: 'нет',
  planning: 'Планирование', time_limit: 'Лимит времени, с', plan_day: 'Спланировать день', planning_running: 'Планирование…',
  plan_done: 'План готов: маршрутных листов {sheets}, не вошло заказов {unassigned}', plan_failed: 'Ошибка планирования: {error}',
  publish: 'Опубликовать', published: 'Опубликовано маршрутных листов: {n}', unassigned: 'Не вошли',
  sheets: 'Маршрутные листы', no_sheets: 'На эту дату маршрутных листов пока нет.', stops: 'точек', stop: 'Точка', print_pdf: 'PDF',
  move_up: 'Выше', move_down: 'Ниже', move_to: 'Перенести…', lock: 'Закрепить', unlock: 'Открепить', locked: 'закреплена',
  late: 'опоздание', over_capacity: 'перегруз', violations: 'Нарушения правил', force_move: 'Перенести всё равно',
  move_refused: 'Перенос нарушает правила', moved: 'Точка перенесена', moved_forced: 'Точка перенесена, нарушений: {n}',
  stale_version: 'Лист изменился, данные обновлены', drop_nowhere: 'Отпустите точку на другом маршруте или точке',
  status_draft: 'черновик', status_published: 'опубликован', status_active: 'в пути', status_completed: 'завершён', status_discarded: 'отменён',
  zones: 'Зоны', new_zone: 'Новая зона', draw_hint: 'Щёлкайте по карте, чтобы добавить вершины; Enter или «Готово» замыкает, Esc — отмена.',
  finish: 'Готово', zone_name: 'Название', zone_color: 'Цвет', zone_saved: 'Зона сохранена', zone_deleted: 'Зона удалена',
  edit_hint: 'Перетащите вершины и сохраните.', need_3: 'Нужно хотя бы 3 вершины',
  legend: 'Легенда', couriers_live: 'Курьеры', stale: 'нет сигнала', last_seen: 'был в сети', depot_marker: 'Склад',
  orders: 'Заказы', order: 'Заказ', status: 'Статус', zone: 'Зона', courier: 'Курьер', customer: 'Клиент', phone: 'Телефон', address: 'Адрес',
  window: 'Окно', weight: 'Вес', cod: 'Оплата', history: 'История', search_orders: 'Номер заказа, телефон или имя',
  no_orders: 'Заказов не найдено.', order_events: 'История заказа',
  ev_created: 'создан', ev_updated: 'изменён', ev_status: 'статус', ev_payment: 'оплата', ev_arrived: 'курьер на месте',
  door_report: 'У двери', arrived_at: 'Прибыл', finished_at: 'Завершено', recipient: 'Получил', amount_due: 'К оплате у двери',
  collected: 'Получено', short_at_door: 'Недобор у двери', refused_goods: 'Отказ от товаров', fail_reason: 'Не доставлен',
  wished_date: 'Клиент просит на', proof_signature: 'Подпись', proof_photo: 'Фото', proof_missing: 'подтверждение недоступно',
  fail_no_answer: 'никто не ответил', fail_refused: 'отказ', fail_wrong_address: 'неверный адрес', fail_damaged: 'повреждён',
  fail_customer_absent: 'клиента нет на месте', fail_reschedule: 'просит другой день', fail_handed_back: 'возвращён в конце смены',
  couriers: 'Курьеры', vehicle: 'Транспорт', capacity: 'Вместимость', shift: 'Смена', active: 'Активен', position: 'Позиция',
  search_couriers: 'Имя, телефон или логин', never_seen: 'позиции ещё нет',
  cashdesk: 'Касса', scan: 'Сканируйте маршрутный лист', scan_hint: 'Отсканируйте штрихкод (или введите номер и нажмите Enter)',
  sheet: 'Маршрутный лист', expected: 'Ожидается', counted: 'Пересчитано', difference: 'Разница', shortage: 'Недостача', surplus: 'Излишек',
  exact: 'Без расхождений', confirm: 'Подтвердить', settle: 'Принять деньги', settled: 'Деньги приняты', note: 'Комментарий', balances: 'Долги курьеров',
  owed: 'Долг', goods: 'Товары', shift_open: 'Открыть смену', shift_close: 'Закрыть смену', shift_report: 'Отчёт о смене', no_shift: 'Смена не открыта',
  shift_opened: 'Смена открыта', cash_in: 'Принято наличных', settlements: 'Приёмы', discrepancies: 'Расхождения', nothing_to_settle: 'По листу нечего принимать',
  state_pending: 'не доставлен', state_to_settle: 'к сдаче', state_settled: 'сдано', state_card: 'карта', state_prepaid: 'предоплата',
  state_goods_due: 'вернуть товар', state_returned: 'товар возвращён', state_none: '—', outstanding: 'Остаток долга', keyboard_hint: 'Enter — дальше · Esc — к сканеру',
  balance_zero: 'Долг погашен', reported: 'Сдал курьер', cashdesk_unavailable: 'Касса на этом сервере пока недоступна.',
};

const statusNames = {
  en: { new: 'new', confirmed: 'confirmed', awaiting_stock: 'awaiting stock', ready: 'ready', planned: 'planned', out_for_delivery: 'out for delivery',
    delivered: 'delivered', failed_attempt: 'failed attempt', refused: 'refused', returned_to_depot: 'returned', cancelled: 'cancelled' },
  ru: { new: 'новый', confirmed: 'подтверждён', awaiting_stock: 'ждёт товар', ready: 'готов', planned: 'запланирован', out_for_delivery: 'в доставке',
    delivered: 'доставлен', failed_attempt: 'не удалось', refused: 'отказ', returned_to_depot: 'возвращён', cancelled: 'отменён' },
};

let lang = 'en';

/** Sets the language: 'ru', 'en', or a BCP 47 tag such as navigator.language ('ru-RU'). */
export function setLanguage(l) {
  lang = String(l || '').toLowerCase().startsWith('ru') ? 'ru' : 'en';
  if (globalThis.document) document.documentElement.lang = lang;
}

export function language() { return lang; }

/** Adds words (the courier app's) to the dictionaries: addWords({en: {...}, ru: {...}}). */
export function addWords(words) {
  Object.assign(en, words.en);
  Object.assign(ru, words.ru);
}

export function t(key, vars) {
  let s = (lang === 'ru' ? ru[key] : undefined) ?? en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
  return s;
}

/**
 * A count in words: key_one, key_few, key_many, key_other by the language's
 * plural rules (Russian has three forms), {n} filled with n.
 */
export function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(lang).select(n);
  const dict = lang === 'ru' ? ru : en;
  const k = dict[`${key}_${form}`] !== undefined ? `${key}_${form}` : `${key}_other`;
  return t(k, { ...vars, n });
}

export function statusName(st) {
  return statusNames[lang][st] || st;
}

/** Order status colours (the map's markers and the legend). */
export const statusColors = {
  new: '#9e9e9e', confirmed: '#607d8b', awaiting_stock: '#795548', ready: '#1e88e5', planned: '#8e24aa',
  out_for_delivery: '#fb8c00', delivered: '#43a047', failed_attempt: '#e53935', refused: '#c62828',
  returned_to_depot: '#6d4c41', cancelled: '#212121',
};
