// The console's words in Russian and English: one dictionary for every
// string the console shows (the courier app adds its own words to it with
// addWords). t('key', {n: 1}) fills {n}; tn('key', n) picks the plural form
// (key_one, key_few, key_many, key_other); errorText(err) says an API error
// in words from its code and details, never the server's English message.
// test/i18n.test.mjs fails when a key is missing in either language or a
// source file uses a key the dictionary does not have.

const en = {
  app: 'Courier console',
  login: 'Log in', login_name: 'Login', password: 'Password', logout: 'Log out', login_failed: 'Login failed',
  nav_map: 'Map', nav_orders: 'Orders', nav_couriers: 'Couriers', nav_cashdesk: 'Cash desk', nav_reports: 'Reports',
  no_screens: 'This login has no console screens (role: {role}).', language: 'Language', panel: 'Panel', menu: 'Menu',
  date: 'Date', depot: 'Depot', search: 'Search', all: 'All', any: 'any', none: 'none', close: 'Close', cancel: 'Cancel', save: 'Save',
  delete: 'Delete', edit: 'Edit', reload: 'Reload', load_more: 'Load more', loading: 'Loading…', yes: 'yes', no: 'no', no_depot: 'No depot is set up',
  print: 'Print', notes: 'Notes', back: 'Back', apply: 'Apply', from: 'From', to: 'To', total: 'Total', dash: '—',
  // units
  unit_km: 'km', unit_m: 'm', unit_h: 'h', unit_min: 'min', unit_kg: 'kg', unit_l: 'l', unit_s: 's',
  dur_hm: '{h} h {m} min', dur_m: '{m} min',
  // roles, vehicles, payment
  role_admin: 'admin', role_dispatcher: 'dispatcher', role_cashier: 'cashier', role_courier: 'courier', role_system: 'system',
  vehicle_foot: 'on foot', vehicle_bike: 'bicycle', vehicle_car: 'car', vehicle_van: 'van', vehicle_truck: 'truck',
  pay_cash: 'cash', pay_card: 'card', pay_prepaid: 'prepaid',
  // planning
  planning: 'Planning', time_limit: 'Time limit, s', plan_day: 'Plan the day', planning_running: 'Planning…',
  plan_done: 'Plan ready: {sheets} route sheets, {unassigned} orders left out', plan_failed: 'Planning failed: {error}',
  plan_progress: 'Best so far: {time} · left out: {n}',
  publish: 'Publish', published: 'Published {n} route sheets', unassigned: 'Left out',
  // sheets
  sheets: 'Route sheets', no_sheets: 'No route sheets for this date yet.', stops: 'stops', stop: 'Stop', print_pdf: 'PDF',
  move_up: 'Move up', move_down: 'Move down', move_to: 'Move to…', lock: 'Lock', unlock: 'Unlock', locked: 'locked',
  late: 'late', over_capacity: 'over capacity', violations: 'Rule violations', force_move: 'Move anyway',
  move_refused: 'The move breaks rules', moved: 'Stop moved', moved_forced: 'Stop moved with {n} violations',
  stale_version: 'The sheet changed meanwhile; reloaded', drop_nowhere: 'Drop the stop on another route or stop',
  status_draft: 'draft', status_published: 'published', status_active: 'on the road', status_completed: 'completed', status_discarded: 'discarded',
  sheet_number: 'Sheet {n}',
  stops_n_one: '{n} stop', stops_n_other: '{n} stops',
  late_n_one: '{n} late', late_n_other: '{n} late',
  orders_n_one: '{n} order', orders_n_other: '{n} orders',
  // the day under way
  progress_of: '{done}/{total}', day_progress: 'done {done} of {total}: delivered {delivered}, failed {failed}, remaining {remaining}',
  last_signal: 'signal {time}', signal_ago: '{ago} ago', no_signal: 'no signal yet', signal_stale: 'no signal for {ago}',
  alerts: 'Late stops', alerts_none: 'No stop is late.', alert_line: 'window until {to}, expected {eta}', late_by: '{d} late',
  stop_delivered: 'delivered', stop_failed: 'not delivered', stop_current: 'under way', stop_late: 'late', stop_planned: 'planned',
  stop_cancelled: 'cancelled', live: 'live', live_lost: 'live updates interrupted, reconnecting…',
  // unassigned orders
  unassigned_title: 'Not on any route', unassigned_none: 'Every ready order of the day is on a route.',
  unassigned_hint: 'Drag a dot onto a route, or pick a courier.', assign_to: 'Assign to…', assigned: 'Added to {courier}\u2019s route',
  assign_refused: 'Adding the order breaks rules', force_assign: 'Add anyway', show_on_map: 'Show on map',
  reason_no_capacity: 'no vehicle has room left for it', reason_window_unreachable: 'its time window cannot be reached',
  reason_no_courier_for_zone: 'no courier serves its zone', reason_too_many_stops: 'every courier has the most stops allowed',
  reason_shift_too_short: 'no courier\u2019s shift is long enough', reason_route_too_long: 'every route would get too long',
  reason_no_courier: 'no courier works that day', reason_no_vehicle: 'no courier could take it', reason_not_planned: 'not planned yet',
  // violations of a move
  viol_capacity: 'over the vehicle\u2019s capacity', viol_time_window: 'arrives outside the customer\u2019s window',
  viol_shift: 'the route ends after the courier\u2019s shift', viol_max_stops: 'more stops than the courier may take',
  viol_max_duration: 'the route gets too long', viol_zone: 'the courier does not serve this zone', viol_other: 'a rule is broken',
  viol_line: '{what}: {order}', viol_on: 'route of {courier}',
  // zones
  zones: 'Zones', new_zone: 'New zone', draw_hint: 'Click the map to add corners; Enter or “Finish” closes the polygon, Esc cancels.',
  finish: 'Finish', zone_name: 'Name', zone_color: 'Colour', zone_saved: 'Zone saved', zone_deleted: 'Zone deleted',
  edit_hint: 'Drag the corners, then save.', need_3: 'A zone needs at least 3 corners',
  // legend and map
  legend: 'Legend', couriers_live: 'Courier (initials, route colour)', stale: 'no signal', last_seen: 'last seen', depot_marker: 'Depot',
  legend_route: 'Route', legend_stop: 'Stop (number)', legend_initials: 'AB', legend_unassigned: 'Not on any route',
  // orders
  orders: 'Orders', order: 'Order', status: 'Status', zone: 'Zone', courier: 'Courier', customer: 'Customer', phone: 'Phone', address: 'Address',
  window: 'Window', weight: 'Weight', cod: 'Payment', history: 'History', search_orders: 'Order number, phone or name',
  no_orders: 'No orders match.', order_events: 'Timeline',
  ev_created: 'created', ev_updated: 'changed', ev_status: 'status', ev_payment: 'payment', ev_arrived: 'courier arrived',
  door_report: 'At the door', arrived_at: 'Arrived', finished_at: 'Finished', recipient: 'Received by', amount_due: 'Due at the door',
  collected: 'Collected', short_at_door: 'Short at the door', refused_goods: 'Refused goods', fail_reason: 'Not delivered',
  wished_date: 'Customer asked for', proof_signature: 'Signature', proof_photo: 'Photo', proof_missing: 'proof not available',
  proofs: 'Proofs of delivery', no_proofs: 'No proofs of delivery.',
  fail_no_answer: 'nobody answered', fail_refused: 'refused', fail_wrong_address: 'wrong address', fail_damaged: 'damaged',
  fail_customer_absent: 'customer absent', fail_reschedule: 'asked for another day', fail_handed_back: 'handed back at the end of the shift',
  // order actions
  new_order: 'New order', order_created: 'Order {n} created', order_saved: 'Order saved', edit_order: 'Edit order',
  cancel_order: 'Cancel order', cancel_reason: 'Why is it cancelled?', order_cancelled: 'Order cancelled', keep_order: 'Keep it',
  reschedule: 'Reschedule', reschedule_to: 'Deliver on', rescheduled: 'Rescheduled to {date}', reschedule_today: 'Back into this day\u2019s pool',
  tracking_link: 'Copy tracking link', link_copied: 'Tracking link copied', link_is: 'Tracking link',
  external_id: 'Order number', customer_name: 'Customer name', email: 'E-mail', lat: 'Latitude', lng: 'Longitude',
  window_from: 'Window from', window_to: 'Window to', service_minutes: 'Service, min', weight_kg: 'Weight, kg', volume_l: 'Volume, l',
  cod_amount: 'Amount to collect', cod_method: 'Paid by', entrance: 'Entrance', floor: 'Floor', apartment: 'Apartment', intercom: 'Intercom',
  address_comment: 'How to find the door', location_hint: 'Pick the point on the map below, or type the coordinates.',
  edit_locked: 'The order left the depot: its address and window can no longer change.',
  select_all: 'Select all', selected_n_one: '{n} selected', selected_n_other: '{n} selected',
  bulk_status: 'Set status…', bulk_reschedule: 'Reschedule…', bulk_apply: 'Apply to {n}', bulk_done: '{ok} done, {failed} refused',
  bulk_report: 'What happened', bulk_reason: 'Reason (for failed, refused, cancelled)',
  outcome_ok: 'done', outcome_error: 'refused',
  import_csv: 'Import CSV', import_title: 'Import orders from CSV', import_file: 'CSV file', import_run: 'Import',
  import_result: 'Created {created}, already there {existing}, refused {failed}', import_row: 'Row', import_outcome: 'Outcome',
  outcome_created: 'created', outcome_existing: 'already there',
  import_help: 'A header row with columns such as external_id, customer_name, customer_phone, address, lat, lng, delivery_date, window_from, window_to, weight_kg, cod_amount (in kopecks or cents), cod_method.',
  // couriers
  couriers: 'Couriers', vehicle: 'Vehicle', capacity: 'Capacity', shift: 'Shift', active: 'Active', position: 'Position',
  search_couriers: 'Name, phone or login', never_seen: 'no position yet', today_sheet: 'Today\u2019s sheet', progress: 'Progress',
  cash_on_hand: 'Cash on hand', actions: 'Actions', send_message: 'Message', message_to: 'Message to {name}', message_text: 'Text',
  message_sent: 'Message sent to {name}', send: 'Send', no_sheet_today: 'no sheet', show_sheet: 'Show the sheet',
  // cash desk
  cashdesk: 'Cash desk', scan: 'Scan a route sheet', scan_hint: 'Scan the barcode (or type the number and press Enter)',
  sheet: 'Route sheet', expected: 'Expected', counted: 'Counted', difference: 'Difference', shortage: 'Shortage', surplus: 'Surplus',
  exact: 'Exact', confirm: 'Confirm', settle: 'Accept cash', settled: 'Cash accepted', note: 'Note', balances: 'Courier balances',
  owed: 'Owes', goods: 'Goods', shift_open: 'Open shift', shift_close: 'Close shift', shift_report: 'Shift report', no_shift: 'No shift is open',
  shift_opened: 'Shift opened', cash_in: 'Cash in', settlements: 'Settlements', discrepancies: 'Discrepancies', nothing_to_settle: 'Nothing to settle on this sheet',
  state_pending: 'not delivered', state_to_settle: 'to settle', state_settled: 'settled', state_card: 'card', state_prepaid: 'prepaid',
  state_goods_due: 'goods due', state_returned: 'returned', state_none: '—', outstanding: 'Outstanding', keyboard_hint: 'Enter: next step · Esc: back to the scanner',
  balance_zero: 'Nobody owes the cash desk', reported: 'Reported collected', to_hand_in: 'To hand in', cashdesk_unavailable: 'The cash desk is not available on this server yet.',
  sheet_settled: 'This sheet is settled', debt_left: 'The courier still owes {amount}', debt_none: '{name} owes nothing',
  debt_of: '{name} owes {amount}', of_it_discrepancy: 'of it, shortages {amount}', goods_n_one: '{n} piece of goods', goods_n_other: '{n} pieces of goods',
  short_recorded: 'Shortage of {amount} recorded', surplus_recorded: 'Surplus of {amount} recorded',
  by_method: 'By payment method', method_line: '{method}: {n} orders, received {amount} of {expected} expected',
  method_card_line: 'card: {n} orders, {amount} paid at the door (not in the till)',
  settled_line: 'closed {settled}: counted {counted}, difference {diff}',
  report_total: 'Total received', report_check: 'cash {cash} + card {card} = {total}', shift_orders: 'Orders',
  discrepancy_total: 'Shortages and surpluses', owing_after: 'Still owing after the shift',
  reported_vs_counted: 'reported {reported}, counted {counted}', short_door_line: 'short at the door {amount}',
  // reports
  reports: 'Reports', report_workload: 'Workload', report_deliveries: 'Deliveries', report_ontime: 'On time', download_csv: 'Download CSV',
  no_rows: 'No data for these days.', report_unavailable: 'Reports are not available on this server yet.',
  all_couriers: 'All couriers', show: 'Show',
  col_courier: 'Courier', col_date: 'Day', col_planned: 'Planned', col_delivered: 'Delivered', col_failed: 'Failed',
  col_planned_km: 'Planned, km', col_driven_km: 'Driven, km', col_hours: 'On shift, h', col_shift_hours: 'Shift, h', col_weight: 'Weight, kg',
  col_cash_collected: 'Cash collected', col_cash_handed: 'Cash handed in', col_order: 'Order', col_fee: 'Fee', col_rule: 'Priced by',
  col_paid: 'Paid', col_method: 'How', col_pay: 'Courier\u2019s pay', col_on_time: 'On time', col_early: 'Early', col_late: 'Late',
  col_late_by: 'Late by, min', col_first_attempt: 'First attempt', col_rate: 'On-time rate', col_zone: 'Zone', col_reasons: 'Failure reasons',
  col_status: 'Status', col_card: 'Card',
  fee_base: 'base', fee_weight: 'weight', fee_distance: 'distance', fee_window: 'narrow window', fee_free_above: 'free delivery',
  fee_other: 'other', fee_manual: 'set by hand', fee_legacy: 'priced before tariff versions', tariff_v: 'tariff v{v}', chart_x_courier: 'Courier', chart_x_day: 'Day', chart_stops: 'Stops per courier', chart_pay: 'Fees and pay per courier', chart_ontime: 'On-time rate by day',
  // errors from the server, by code
  err_invalid: 'The data was refused', err_bad_request: 'The request could not be read', err_not_found: 'Not found (or no longer there)',
  err_conflict: 'Not possible in the current state', err_unauthorized: 'Please log in again', err_forbidden: 'Not allowed for this login',
  err_too_many: 'Too many attempts', err_internal: 'Server error', err_unavailable: 'The service is temporarily unavailable',
  err_idempotency_key_reused: 'The same request was sent twice with different data', err_too_large: 'Too large',
  err_method_not_allowed: 'Not possible here', err_network: 'No connection to the server', err_http: 'Server answered {status}',
  err_field: 'field: {field}', err_allowed: 'possible: {list}', err_final: 'the status can no longer change', err_now: 'now: {status}', err_stale: 'it changed meanwhile: reload and try again',
  err_max: 'at most {max}', err_retry: 'try again in {s} s', err_request: 'request {id}', err_missing: 'missing: {list}', err_unexpected: 'not expected: {list}',
  err_open_stops: 'stops still open: {n}',
  // field names in errors
  field_address: 'address', field_location: 'location', field_customer: 'customer', field_phone: 'phone', field_name: 'name',
  field_delivery_date: 'delivery date', field_time_window: 'time window', field_date: 'date', field_status: 'status', field_reason: 'reason',
  field_weight_kg: 'weight', field_volume_l: 'volume', field_cod: 'payment', field_external_id: 'order number', field_text: 'text',
  field_to_sheet_id: 'route sheet', field_order_id: 'order', field_position: 'position', field_counted: 'counted amount', field_barcode: 'barcode',
  field_from: 'from', field_to: 'to', field_courier_id: 'courier', field_items: 'goods', field_service_minutes: 'service time',
  field_file: 'file', field_version: 'version', field_note: 'note', field_depot_id: 'depot',
  field_csv: 'CSV file', field_lat: 'latitude', field_lng: 'longitude', field_customer_name: 'customer\u2019s name', field_customer_phone: 'customer\u2019s phone',
  field_customer_email: 'customer\u2019s email', field_window_from: 'window from', field_window_to: 'window until', field_cod_amount: 'amount to pay',
  field_cod_currency: 'currency', field_cod_method: 'payment method', field_delivery_fee: 'delivery fee', field_notes: 'notes', field_orders: 'orders',
  field_geometry: 'zone outline', field_time_limit_s: 'time limit', field_wished_date: 'wished date', field_comment: 'comment', field_collected: 'amount collected',
  // history notes written by the server
  hn_rescheduled: 'rescheduled to {date}', hn_published: 'route sheet {n} published', hn_started: 'route sheet {n} started',
  hn_moved: 'moved by the dispatcher to route sheet {n}', hn_reoptimized: 're-optimized onto route sheet {n}', hn_rezoned: 'zone recalculated',
  hn_arrived: 'the courier arrived', hn_delivered: 'delivered', hn_collected: 'payment collected', hn_deposited: 'cash handed in at the desk',
  hc_received_by: 'received by {name}', hc_refused: 'refused {n} pcs (back to the depot)', hc_short: 'short collection: {collected} of {due}',
  hc_card_instead: 'paid by card instead of cash (terminal slip {ref})', hc_cash_instead: 'paid in cash instead of by card',
  hc_collected_by: '{amount} received · {method}', hc_settled: 'route sheet {n} settled at the cash desk',
  hn_goods_in: 'goods checked in at the depot', hn_refused_in: 'refused goods checked in at the depot', hn_prepaid: 'prepaid', hn_cod_pending: 'to be paid at the door',
};

const ru = {
  app: 'Консоль доставки',
  login: 'Войти', login_name: 'Логин', password: 'Пароль', logout: 'Выйти', login_failed: 'Не удалось войти',
  nav_map: 'Карта', nav_orders: 'Заказы', nav_couriers: 'Курьеры', nav_cashdesk: 'Касса', nav_reports: 'Отчёты',
  no_screens: 'Для этого входа в консоли нет экранов (роль: {role}).', language: 'Язык', panel: 'Панель', menu: 'Меню',
  date: 'Дата', depot: 'Склад', search: 'Поиск', all: 'Все', any: 'любой', none: 'нет', close: 'Закрыть', cancel: 'Отмена', save: 'Сохранить',
  delete: 'Удалить', edit: 'Изменить', reload: 'Обновить', load_more: 'Ещё', loading: 'Загрузка…', yes: 'да', no: 'нет', no_depot: 'Склад не настроен',
  print: 'Печать', notes: 'Примечания', back: 'Назад', apply: 'Применить', from: 'С', to: 'По', total: 'Итого', dash: '—',
  unit_km: 'км', unit_m: 'м', unit_h: 'ч', unit_min: 'мин', unit_kg: 'кг', unit_l: 'л', unit_s: 'с',
  dur_hm: '{h} ч {m} мин', dur_m: '{m} мин',
  role_admin: 'администратор', role_dispatcher: 'диспетчер', role_cashier: 'кассир', role_courier: 'курьер', role_system: 'система',
  vehicle_foot: 'пешком', vehicle_bike: 'велосипед', vehicle_car: 'легковой', vehicle_van: 'фургон', vehicle_truck: 'грузовик',
  pay_cash: 'наличные', pay_card: 'карта', pay_prepaid: 'предоплата',
  planning: 'Планирование', time_limit: 'Лимит времени, с', plan_day: 'Спланировать день', planning_running: 'Планирование…',
  plan_done: 'План готов: маршрутных листов {sheets}, не вошло заказов {unassigned}', plan_failed: 'Ошибка планирования: {error}',
  plan_progress: 'Лучший вариант: {time} · не вошло: {n}',
  publish: 'Опубликовать', published: 'Опубликовано маршрутных листов: {n}', unassigned: 'Не вошли',
  sheets: 'Маршрутные листы', no_sheets: 'На эту дату маршрутных листов пока нет.', stops: 'точек', stop: 'Точка', print_pdf: 'PDF',
  move_up: 'Выше', move_down: 'Ниже', move_to: 'Перенести…', lock: 'Закрепить', unlock: 'Открепить', locked: 'закреплена',
  late: 'опоздание', over_capacity: 'перегруз', violations: 'Нарушения правил', force_move: 'Перенести всё равно',
  move_refused: 'Перенос нарушает правила', moved: 'Точка перенесена', moved_forced: 'Точка перенесена, нарушений: {n}',
  stale_version: 'Лист изменился, данные обновлены', drop_nowhere: 'Отпустите точку на другом маршруте или точке',
  status_draft: 'черновик', status_published: 'опубликован', status_active: 'в пути', status_completed: 'завершён', status_discarded: 'отменён',
  sheet_number: 'Лист {n}',
  stops_n_one: '{n} точка', stops_n_few: '{n} точки', stops_n_many: '{n} точек', stops_n_other: '{n} точки',
  late_n_one: '{n} опаздывает', late_n_few: '{n} опаздывают', late_n_many: '{n} опаздывают', late_n_other: '{n} опаздывают',
  orders_n_one: '{n} заказ', orders_n_few: '{n} заказа', orders_n_many: '{n} заказов', orders_n_other: '{n} заказа',
  progress_of: '{done}/{total}', day_progress: 'выполнено {done} из {total}: доставлено {delivered}, не доставлено {failed}, осталось {remaining}',
  last_signal: 'сигнал {time}', signal_ago: '{ago} назад', no_signal: 'сигнала ещё не было', signal_stale: 'нет сигнала {ago}',
  alerts: 'Опоздания', alerts_none: 'Опаздывающих точек нет.', alert_line: 'окно до {to}, ожидается {eta}', late_by: 'опоздание {d}',
  stop_delivered: 'доставлен', stop_failed: 'не доставлен', stop_current: 'курьер в пути', stop_late: 'опаздывает', stop_planned: 'по плану',
  stop_cancelled: 'отменён', live: 'онлайн', live_lost: 'обновления прервались, переподключаемся…',
  unassigned_title: 'Вне маршрутов', unassigned_none: 'Все готовые заказы дня в маршрутах.',
  unassigned_hint: 'Перетащите точку на маршрут или выберите курьера.', assign_to: 'Назначить…', assigned: 'Добавлен в маршрут: {courier}',
  assign_refused: 'Добавление нарушает правила', force_assign: 'Добавить всё равно', show_on_map: 'Показать на карте',
  reason_no_capacity: 'ни в одной машине не осталось места', reason_window_unreachable: 'не успеть к окну доставки',
  reason_no_courier_for_zone: 'нет курьера для этой зоны', reason_too_many_stops: 'у всех курьеров предельное число точек',
  reason_shift_too_short: 'ни у кого не хватает смены', reason_route_too_long: 'маршрут стал бы слишком длинным',
  reason_no_courier: 'в этот день курьеров нет', reason_no_vehicle: 'ни один курьер не смог взять', reason_not_planned: 'ещё не планировался',
  viol_capacity: 'перегруз машины', viol_time_window: 'приезд вне окна клиента',
  viol_shift: 'маршрут выходит за смену курьера', viol_max_stops: 'больше точек, чем положено курьеру',
  viol_max_duration: 'маршрут становится слишком длинным', viol_zone: 'курьер не обслуживает эту зону', viol_other: 'нарушено правило',
  viol_line: '{what}: {order}', viol_on: 'маршрут: {courier}',
  zones: 'Зоны', new_zone: 'Новая зона', draw_hint: 'Щёлкайте по карте, чтобы добавить вершины; Enter или «Готово» замыкает, Esc — отмена.',
  finish: 'Готово', zone_name: 'Название', zone_color: 'Цвет', zone_saved: 'Зона сохранена', zone_deleted: 'Зона удалена',
  edit_hint: 'Перетащите вершины и сохраните.', need_3: 'Нужно хотя бы 3 вершины',
  legend: 'Легенда', couriers_live: 'Курьер (инициалы, цвет маршрута)', stale: 'нет сигнала', last_seen: 'был в сети', depot_marker: 'Склад',
  legend_route: 'Маршрут', legend_stop: 'Точка (номер)', legend_initials: 'АБ', legend_unassigned: 'Вне маршрутов',
  orders: 'Заказы', order: 'Заказ', status: 'Статус', zone: 'Зона', courier: 'Курьер', customer: 'Клиент', phone: 'Телефон', address: 'Адрес',
  window: 'Окно', weight: 'Вес', cod: 'Оплата', history: 'История', search_orders: 'Номер заказа, телефон или имя',
  no_orders: 'Заказов не найдено.', order_events: 'История заказа',
  ev_created: 'создан', ev_updated: 'изменён', ev_status: 'статус', ev_payment: 'оплата', ev_arrived: 'курьер на месте',
  door_report: 'У двери', arrived_at: 'Прибыл', finished_at: 'Завершено', recipient: 'Получил', amount_due: 'К оплате у двери',
  collected: 'Получено', short_at_door: 'Недобор у двери', refused_goods: 'Отказ от товаров', fail_reason: 'Не доставлен',
  wished_date: 'Клиент просит на', proof_signature: 'Подпись', proof_photo: 'Фото', proof_missing: 'подтверждение недоступно',
  proofs: 'Подтверждения доставки', no_proofs: 'Подтверждений доставки нет.',
  fail_no_answer: 'никто не ответил', fail_refused: 'отказ', fail_wrong_address: 'неверный адрес', fail_damaged: 'повреждён',
  fail_customer_absent: 'клиента нет на месте', fail_reschedule: 'просит другой день', fail_handed_back: 'возвращён в конце смены',
  new_order: 'Новый заказ', order_created: 'Заказ {n} создан', order_saved: 'Заказ сохранён', edit_order: 'Изменить заказ',
  cancel_order: 'Отменить заказ', cancel_reason: 'Причина отмены', order_cancelled: 'Заказ отменён', keep_order: 'Не отменять',
  reschedule: 'Перенести', reschedule_to: 'Доставить', rescheduled: 'Перенесён на {date}', reschedule_today: 'Вернуть в пул этого дня',
  tracking_link: 'Скопировать ссылку', link_copied: 'Ссылка для отслеживания скопирована', link_is: 'Ссылка для отслеживания',
  external_id: 'Номер заказа', customer_name: 'Имя клиента', email: 'Эл. почта', lat: 'Широта', lng: 'Долгота',
  window_from: 'Окно с', window_to: 'Окно до', service_minutes: 'Обслуживание, мин', weight_kg: 'Вес, кг', volume_l: 'Объём, л',
  cod_amount: 'Сумма к оплате', cod_method: 'Способ оплаты', entrance: 'Подъезд', floor: 'Этаж', apartment: 'Квартира', intercom: 'Домофон',
  address_comment: 'Как найти дверь', location_hint: 'Укажите точку на карте ниже или введите координаты.',
  edit_locked: 'Заказ уже уехал со склада: адрес и окно менять нельзя.',
  select_all: 'Выбрать все', selected_n_one: 'выбран {n}', selected_n_few: 'выбрано {n}', selected_n_many: 'выбрано {n}', selected_n_other: 'выбрано {n}',
  bulk_status: 'Сменить статус…', bulk_reschedule: 'Перенести…', bulk_apply: 'Применить к {n}', bulk_done: 'выполнено {ok}, отказано {failed}',
  bulk_report: 'Что получилось', bulk_reason: 'Причина (для «не удалось», «отказ», «отменён»)',
  outcome_ok: 'выполнено', outcome_error: 'отказано',
  import_csv: 'Импорт CSV', import_title: 'Импорт заказов из CSV', import_file: 'Файл CSV', import_run: 'Импортировать',
  import_result: 'Создано {created}, уже были {existing}, отклонено {failed}', import_row: 'Строка', import_outcome: 'Результат',
  outcome_created: 'создан', outcome_existing: 'уже был',
  import_help: 'Первая строка — заголовки столбцов: external_id, customer_name, customer_phone, address, lat, lng, delivery_date, window_from, window_to, weight_kg, cod_amount (в копейках), cod_method.',
  couriers: 'Курьеры', vehicle: 'Транспорт', capacity: 'Вместимость', shift: 'Смена', active: 'Активен', position: 'Позиция',
  search_couriers: 'Имя, телефон или логин', never_seen: 'позиции ещё нет', today_sheet: 'Лист на день', progress: 'Ход доставки',
  cash_on_hand: 'Наличные на руках', actions: 'Действия', send_message: 'Сообщение', message_to: 'Сообщение: {name}', message_text: 'Текст',
  message_sent: 'Сообщение отправлено: {name}', send: 'Отправить', no_sheet_today: 'листа нет', show_sheet: 'Показать лист',
  cashdesk: 'Касса', scan: 'Сканируйте маршрутный лист', scan_hint: 'Отсканируйте штрихкод (или введите номер и нажмите Enter)',
  sheet: 'Маршрутный лист', expected: 'Ожидается', counted: 'Пересчитано', difference: 'Разница', shortage: 'Недостача', surplus: 'Излишек',
  exact: 'Без расхождений', confirm: 'Подтвердить', settle: 'Принять деньги', settled: 'Деньги приняты', note: 'Комментарий', balances: 'Долги курьеров',
  owed: 'Долг', goods: 'Товары', shift_open: 'Открыть смену', shift_close: 'Закрыть смену', shift_report: 'Отчёт о смене', no_shift: 'Смена не открыта',
  shift_opened: 'Смена открыта', cash_in: 'Принято наличных', settlements: 'Приёмы', discrepancies: 'Расхождения', nothing_to_settle: 'По листу нечего принимать',
  state_pending: 'не доставлен', state_to_settle: 'к сдаче', state_settled: 'сдано', state_card: 'карта', state_prepaid: 'предоплата',
  state_goods_due: 'вернуть товар', state_returned: 'товар возвращён', state_none: '—', outstanding: 'Остаток долга', keyboard_hint: 'Enter — дальше · Esc — к сканеру',
  balance_zero: 'Никто не должен кассе', reported: 'Курьер сообщил', to_hand_in: 'К сдаче', cashdesk_unavailable: 'Касса на этом сервере пока недоступна.',
  sheet_settled: 'Лист закрыт', debt_left: 'Курьер ещё должен {amount}', debt_none: '{name} ничего не должен',
  debt_of: '{name} должен {amount}', of_it_discrepancy: 'из них недостачи {amount}',
  goods_n_one: '{n} товар', goods_n_few: '{n} товара', goods_n_many: '{n} товаров', goods_n_other: '{n} товара',
  short_recorded: 'Записана недостача {amount}', surplus_recorded: 'Записан излишек {amount}',
  by_method: 'По способам оплаты', method_line: '{method}: заказов {n}, принято {amount} из ожидаемых {expected}',
  method_card_line: 'карта: заказов {n}, {amount} оплачено у двери (не в кассе)',
  settled_line: 'закрыто по листу {settled}: пересчитано {counted}, разница {diff}',
  report_total: 'Всего получено', report_check: 'наличные {cash} + карта {card} = {total}', shift_orders: 'Заказы',
  discrepancy_total: 'Недостачи и излишки', owing_after: 'Остались должны после смены',
  reported_vs_counted: 'сообщил {reported}, пересчитано {counted}', short_door_line: 'недобор у двери {amount}',
  reports: 'Отчёты', report_workload: 'Загрузка', report_deliveries: 'Доставки', report_ontime: 'Вовремя', download_csv: 'Скачать CSV',
  no_rows: 'За эти дни данных нет.', report_unavailable: 'Отчёты на этом сервере пока недоступны.',
  all_couriers: 'Все курьеры', show: 'Показать',
  col_courier: 'Курьер', col_date: 'День', col_planned: 'План', col_delivered: 'Доставлено', col_failed: 'Не доставлено',
  col_planned_km: 'План, км', col_driven_km: 'Проехал, км', col_hours: 'На смене, ч', col_shift_hours: 'Смена, ч', col_weight: 'Вес, кг',
  col_cash_collected: 'Собрано наличных', col_cash_handed: 'Сдано в кассу', col_order: 'Заказ', col_fee: 'Стоимость доставки', col_rule: 'Тариф',
  col_paid: 'Оплачено', col_method: 'Способ', col_pay: 'Оплата курьеру', col_on_time: 'Вовремя', col_early: 'Раньше', col_late: 'Позже',
  col_late_by: 'Опоздание, мин', col_first_attempt: 'С первой попытки', col_rate: 'Доля вовремя', col_zone: 'Зона', col_reasons: 'Причины недоставки',
  col_status: 'Статус', col_card: 'Картой',
  fee_base: 'база', fee_weight: 'вес', fee_distance: 'расстояние', fee_window: 'узкое окно', fee_free_above: 'бесплатная доставка',
  fee_other: 'прочее', fee_manual: 'задана вручную', fee_legacy: 'цена до версий тарифа', tariff_v: 'тариф v{v}', chart_x_courier: 'Курьер', chart_x_day: 'День', chart_stops: 'Точки по курьерам', chart_pay: 'Доставка и оплата курьерам', chart_ontime: 'Доля вовремя по дням',
  err_invalid: 'Данные не приняты', err_bad_request: 'Запрос не удалось прочитать', err_not_found: 'Не найдено (или уже нет)',
  err_conflict: 'В текущем состоянии это невозможно', err_unauthorized: 'Войдите снова', err_forbidden: 'Этому входу это не разрешено',
  err_too_many: 'Слишком много попыток', err_internal: 'Ошибка сервера', err_unavailable: 'Сервис временно недоступен',
  err_idempotency_key_reused: 'Один и тот же запрос отправлен дважды с разными данными', err_too_large: 'Слишком большой объём',
  err_method_not_allowed: 'Здесь это невозможно', err_network: 'Нет связи с сервером', err_http: 'Сервер ответил {status}',
  err_field: 'поле: {field}', err_allowed: 'можно: {list}', err_final: 'статус больше не меняется', err_now: 'сейчас: {status}', err_stale: 'данные изменились: обновите и повторите',
  err_max: 'не больше {max}', err_retry: 'повторите через {s} с', err_request: 'запрос {id}', err_missing: 'не хватает: {list}', err_unexpected: 'лишние: {list}',
  err_open_stops: 'незакрытых точек: {n}',
  field_address: 'адрес', field_location: 'координаты', field_customer: 'клиент', field_phone: 'телефон', field_name: 'имя',
  field_delivery_date: 'дата доставки', field_time_window: 'окно доставки', field_date: 'дата', field_status: 'статус', field_reason: 'причина',
  field_weight_kg: 'вес', field_volume_l: 'объём', field_cod: 'оплата', field_external_id: 'номер заказа', field_text: 'текст',
  field_to_sheet_id: 'маршрутный лист', field_order_id: 'заказ', field_position: 'позиция', field_counted: 'пересчитанная сумма', field_barcode: 'штрихкод',
  field_from: 'с', field_to: 'по', field_courier_id: 'курьер', field_items: 'товары', field_service_minutes: 'время обслуживания',
  field_file: 'файл', field_version: 'версия', field_note: 'комментарий', field_depot_id: 'склад',
  field_csv: 'файл CSV', field_lat: 'широта', field_lng: 'долгота', field_customer_name: 'имя клиента', field_customer_phone: 'телефон клиента',
  field_customer_email: 'эл. почта клиента', field_window_from: 'окно с', field_window_to: 'окно до', field_cod_amount: 'сумма к оплате',
  field_cod_currency: 'валюта', field_cod_method: 'способ оплаты', field_delivery_fee: 'стоимость доставки', field_notes: 'заметки', field_orders: 'заказы',
  field_geometry: 'контур зоны', field_time_limit_s: 'лимит времени', field_wished_date: 'желаемая дата', field_comment: 'комментарий', field_collected: 'полученная сумма',
  hn_rescheduled: 'перенесён на {date}', hn_published: 'маршрутный лист {n} опубликован', hn_started: 'маршрутный лист {n} начат',
  hn_moved: 'диспетчер перенёс в лист {n}', hn_reoptimized: 'переоптимизирован в лист {n}', hn_rezoned: 'зона пересчитана',
  hn_arrived: 'курьер прибыл', hn_delivered: 'доставлен', hn_collected: 'оплата получена', hn_deposited: 'деньги сданы в кассу',
  hc_received_by: 'получил: {name}', hc_refused: 'отказ от {n} шт. (вернётся на склад)', hc_short: 'недобор: получено {collected} из {due}',
  hc_card_instead: 'оплачено картой вместо наличных (чек терминала {ref})', hc_cash_instead: 'оплачено наличными вместо карты',
  hc_collected_by: 'получено {amount} · {method}', hc_settled: 'маршрутный лист {n} закрыт в кассе',
  hn_goods_in: 'товар принят на склад', hn_refused_in: 'отказной товар принят на склад', hn_prepaid: 'предоплачен', hn_cod_pending: 'оплата у двери',
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

// --- the console's additions (after the shared part above) ---------------------

/** The dictionaries, for the test that every key is in both languages. */
export const dictionaries = { en, ru, statusNames };

/** A word in a given language, whatever the page's language (format.js). */
export function tIn(l, key, vars) {
  const d = String(l || '').toLowerCase().startsWith('ru') ? ru : en;
  let s = d[key] ?? en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
  return s;
}

/** A word for a code with a prefix (vehicle_car, pay_cash), or the code itself when unknown. */
export function word(prefix, code) {
  if (code == null || code === '') return '';
  const k = prefix + code;
  return en[k] !== undefined ? t(k) : String(code);
}

/**
 * A history comment in words: the notes the server writes itself ("received
 * by …", "short collection: 1400.00 RUB of …", "… collected by card", "route
 * sheet … settled at the cash desk"), several joined by "; ", said in the
 * page's language with money through money(minor, currency); anything else
 * (what a person typed) is shown as it is.
 */
export function historyComment(comment, money = (minor, cur) => `${minor} ${cur}`) {
  const amount = (s) => {
    const m = /^(-?)(\d+)(?:\.(\d+))? ([A-Z]{3})$/.exec(s);
    return m ? money(Number(m[2] + (m[3] || '')) * (m[1] ? -1 : 1), m[4]) : s;
  };
  const one = (p) => {
    let m;
    if ((m = /^received by (.+)$/s.exec(p))) return t('hc_received_by', { name: m[1] });
    if ((m = /^(\d+) pieces refused \(back to the depot\)$/.exec(p))) return t('hc_refused', { n: m[1] });
    if ((m = /^short collection: (-?\d+(?:\.\d+)? [A-Z]{3}) of (-?\d+(?:\.\d+)? [A-Z]{3}) collected$/.exec(p))) return t('hc_short', { collected: amount(m[1]), due: amount(m[2]) });
    if ((m = /^paid by card instead of cash \(terminal slip (.*)\)$/s.exec(p))) return t('hc_card_instead', { ref: m[1] });
    if (p === 'paid in cash instead of by card') return t('hc_cash_instead');
    if ((m = /^(-?\d+(?:\.\d+)? [A-Z]{3}) collected by (\w+)$/.exec(p))) return t('hc_collected_by', { amount: amount(m[1]), method: word('pay_', m[2]) });
    if ((m = /^route sheet (\S+) settled at the cash desk$/.exec(p))) return t('hc_settled', { n: m[1] });
    return p;
  };
  return String(comment || '').split('; ').map(one).join('; ');
}

/**
 * How a delivery's fee was priced, in words, from a delivery report line's
 * fee_parts and tariff_version (never the server's English fee_rule):
 * "тариф v2: база 199,00 ₽ + расстояние 75,00 ₽". money formats minor units.
 */
export function feeRuleText(line, money) {
  const p = line?.fee_parts || {};
  const manual = line?.tariff_version == null && /\boverride\b/.test(String(line?.fee_rule || ''));
  const parts = [['base', p.base], ['weight', p.weight], ['distance', p.distance], ['window', p.window], ['free_above', p.free_above],
    [manual ? 'manual' : 'other', p.other]].filter(([, v]) => v);
  if (!parts.length) return line?.fee ? money(line.fee) : '';
  const body = parts.map(([k, v]) => `${t('fee_' + k)} ${money(v)}`).join(' + ');
  if (line.tariff_version != null) return `${t('tariff_v', { v: line.tariff_version })}: ${body}`;
  if (!manual && parts.length === 1 && parts[0][0] === 'other') return `${t('fee_legacy')}: ${money(p.other)}`;
  return body;
}

/** Why the optimizer left an order out, in plain words. */
export function reasonText(code) {
  return word('reason_', code || 'not_planned');
}

/** One rule violation of a move ({kind, order_id, sheet_id}) in words; names(v) gives the order's and courier's names. */
export function violationText(v, names = {}) {
  const what = en['viol_' + v.kind] !== undefined ? t('viol_' + v.kind) : t('viol_other');
  const parts = [what];
  if (names.order) parts.push(names.order);
  if (names.courier) parts.push(t('viol_on', { courier: names.courier }));
  return parts.join(' · ');
}

/** A field name of an error's details in words (items[2].sku -> the goods). */
export function fieldName(field) {
  const f = String(field || '');
  const base = f.replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
  return en['field_' + base] !== undefined ? t('field_' + base) : f;
}

/**
 * An error in words: the API's code and details (field, allowed states, the
 * current state, limits, barcodes), or a lost connection. The server's own
 * message (English) is never shown.
 */
export function errorText(err) {
  if (!err) return '';
  if (err.status == null && err.code == null) {
    return err.name === 'TypeError' || /fetch|network/i.test(String(err.message)) ? t('err_network') : t('err_internal');
  }
  const code = String(err.code || '');
  let head = en['err_' + code] !== undefined ? t('err_' + code) : t('err_http', { status: err.status });
  const d = err.details || {};
  const bits = [];
  if (d.field) bits.push(t('err_field', { field: fieldName(d.field) }));
  // A refused status change names the states possible from here (or that there are none) and the current one.
  if (Array.isArray(d.allowed)) bits.push(d.allowed.length ? t('err_allowed', { list: d.allowed.map(statusName).join(', ') }) : t('err_final'));
  const now = [d.status, d.from].find((x) => typeof x === 'string' && statusNames.en[x]);
  if (now) bits.push(t('err_now', { status: statusName(now) }));
  if (code === 'conflict' && d.version != null) bits.push(t('err_stale'));
  if (d.max != null) bits.push(t('err_max', { max: d.max }));
  if (Array.isArray(d.missing) && d.missing.length) bits.push(t('err_missing', { list: d.missing.join(', ') }));
  if (Array.isArray(d.unexpected) && d.unexpected.length) bits.push(t('err_unexpected', { list: d.unexpected.join(', ') }));
  if (d.open_stops != null) bits.push(t('err_open_stops', { n: Array.isArray(d.open_stops) ? d.open_stops.length : d.open_stops }));
  if (Array.isArray(d.violations) && d.violations.length) bits.push(d.violations.map((v) => violationText(v)).join('; '));
  if (d.retry_after_s != null) bits.push(t('err_retry', { s: d.retry_after_s }));
  if (code === 'internal' && d.request_id) bits.push(t('err_request', { id: d.request_id }));
  if (code === 'invalid' && !bits.length) head = t('err_invalid');
  return bits.length ? `${head}: ${bits.join('; ')}` : head;
}

/**
 * A note of an order's history as the server wrote it ("route sheet 0000123
 * published", "rescheduled to 2026-05-02", a fail reason code) in words; a
 * note typed by a person is shown as typed.
 */
export function historyNote(reason, fmtDate = (d) => d) {
  const r = String(reason || '');
  if (!r) return '';
  let m;
  if ((m = /^rescheduled to (\d{4}-\d{2}-\d{2})$/.exec(r))) return t('hn_rescheduled', { date: fmtDate(m[1]) });
  if ((m = /^route sheet (\S+) published$/.exec(r))) return t('hn_published', { n: m[1] });
  if ((m = /^route sheet (\S+) started$/.exec(r))) return t('hn_started', { n: m[1] });
  if ((m = /^moved by the dispatcher: route sheet (\S+)$/.exec(r))) return t('hn_moved', { n: m[1] });
  if ((m = /^re-optimized: route sheet (\S+)$/.exec(r))) return t('hn_reoptimized', { n: m[1] });
  const fixed = {
    rezoned: 'hn_rezoned', 'the courier arrived': 'hn_arrived', delivered: 'hn_delivered', collected: 'hn_collected',
    deposited: 'hn_deposited', prepaid: 'hn_prepaid', cod_pending: 'hn_cod_pending',
    'goods checked in at the depot': 'hn_goods_in', 'refused goods checked in at the depot': 'hn_refused_in',
  };
  if (fixed[r]) return t(fixed[r]);
  if (en['fail_' + r] !== undefined) return t('fail_' + r);
  return r;
}
