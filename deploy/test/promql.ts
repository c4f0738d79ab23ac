// Metric names in a PromQL expression: every identifier that is not a function, an aggregation, a
// keyword, a label name (inside {...} or a by/without/on/ignoring/group_left/group_right list), a
// string, a number or a duration. Enough for the queries of our dashboards and rules (checked against
// Prometheus itself in the live test), not a full parser.
/** Aggregation operators: may be followed by `by (...)`/`without (...)` before their parenthesis. */
const AGGREGATIONS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'limitk',
  'limit_ratio',
])
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
])

export function metricNames(expr: string): Set<string> {
  const names = new Set<string>()
  // Grafana variables: $__rate_interval inside [...], $node inside label values.
  const s = expr.replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'X')
  let i = 0
  let braceDepth = 0
  let labelList = false
  while (i < s.length) {
    const c = s[i]!
    if (c === '"' || c === "'" || c === '`') {
      const end = s.indexOf(c, i + 1)
      i = end < 0 ? s.length : end + 1
      continue
    }
    if (c === '[') {
      const end = s.indexOf(']', i)
      i = end < 0 ? s.length : end + 1
      continue
    }
    if (c === '{') braceDepth++
    if (c === '}') braceDepth--
    if (c === ')') labelList = false
    const m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(s.slice(i))
    if (m === null || (i > 0 && /[0-9.]/.test(s[i - 1]!))) {
      i++
      continue
    }
    const word = m[0]
    const after = s.slice(i + word.length).trimStart()
    i += word.length
    if (braceDepth > 0 || labelList) continue
    if (KEYWORDS.has(word.toLowerCase())) {
      if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(word) && after.startsWith('(')) labelList = true
      continue
    }
    if (after.startsWith('(') || AGGREGATIONS.has(word)) continue // a function or an aggregation
    names.add(word)
  }
  return names
}

/** True when `name` is a family of the exposition, or a histogram/summary series of one. */
export function isExported(name: string, families: ReadonlySet<string>): boolean {
  if (families.has(name)) return true
  const m = /^(.*)_(bucket|sum|count)$/.exec(name)
  return m !== null && families.has(m[1]!)
}
