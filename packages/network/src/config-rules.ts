// The small validator behind NetworkConfig (config.ts): strict objects, defaults, numbers, enums,
// arrays and refinements, collecting every issue with its path. Hand-written instead of zod because
// zod's module graph (~95 modules) costs every process that embeds a NetworkHandler ~9 MiB of RSS and
// 50-150 ms of import (benchmark row P6); the process runner's own options (app-config.ts) still use zod.
// Issues have zod's shape, so app-config reports NetworkConfig issues the way it reports its own.
import type { z } from 'zod'

export type Issue = z.core.$ZodIssue

/** Where the issues of one parse go. */
export interface Ctx {
  issues: Issue[]
}

/** Returned by a rule whose value is invalid (its issues are in the context). */
export const BAD: unique symbol = Symbol('invalid')

/** Validates `value` at `path`, returning the output value or BAD. */
export type Rule<T> = (value: unknown, path: PropertyKey[], ctx: Ctx) => T | typeof BAD

export function issue(ctx: Ctx, path: PropertyKey[], message: string, input?: unknown): typeof BAD {
  ctx.issues.push({ code: 'custom', path, message, input })
  return BAD
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

export function string(checks: Array<[test: (v: string) => boolean, message: string]> = []): Rule<string> {
  return (v, path, ctx) => {
    if (typeof v !== 'string') return issue(ctx, path, `expected string, received ${kind(v)}`, v)
    for (const [test, message] of checks) if (!test(v)) return issue(ctx, path, message, v)
    return v
  }
}

export interface NumberInit {
  int?: boolean
  /** Smallest allowed value (inclusive), or exclusive with `gt`. */
  min?: number
  gt?: number
  max?: number
  minMessage?: string
}

export function number(init: NumberInit = {}): Rule<number> {
  return (v, path, ctx) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return issue(ctx, path, `expected number, received ${typeof v === 'number' ? String(v) : kind(v)}`, v)
    if (init.int === true && !Number.isSafeInteger(v)) return issue(ctx, path, 'expected an integer', v)
    if (init.gt !== undefined && !(v > init.gt)) return issue(ctx, path, `must be greater than ${init.gt}`, v)
    if (init.min !== undefined && v < init.min) return issue(ctx, path, init.minMessage ?? `must be at least ${init.min}`, v)
    if (init.max !== undefined && v > init.max) return issue(ctx, path, `must be at most ${init.max}`, v)
    return v
  }
}

export const boolean: Rule<boolean> = (v, path, ctx) => (typeof v === 'boolean' ? v : issue(ctx, path, `expected boolean, received ${kind(v)}`, v))

export function oneOf<const T extends readonly string[]>(values: T): Rule<T[number]> {
  return (v, path, ctx) =>
    typeof v === 'string' && values.includes(v) ? (v as T[number]) : issue(ctx, path, `expected one of ${values.map((x) => `'${x}'`).join(', ')}`, v)
}

export function array<T>(item: Rule<T>, maxItems?: number): Rule<T[]> {
  return (v, path, ctx) => {
    if (!Array.isArray(v)) return issue(ctx, path, `expected array, received ${kind(v)}`, v)
    if (maxItems !== undefined && v.length > maxItems) return issue(ctx, path, `at most ${maxItems} items`, v)
    const out: T[] = []
    let ok = true
    v.forEach((x, i) => {
      const r = item(x, [...path, i], ctx)
      if (r === BAD) ok = false
      else out.push(r)
    })
    return ok ? out : BAD
  }
}

/** An absent value (undefined) passes as absent. */
export function optional<T>(rule: Rule<T>): Rule<T | undefined> {
  return (v, path, ctx) => (v === undefined ? undefined : rule(v, path, ctx))
}

/** An absent value becomes `fallback()` (a fresh copy each time), validated by `rule` like any other. */
export function withDefault<T>(rule: Rule<T>, fallback: () => unknown): Rule<T> {
  return (v, path, ctx) => rule(v === undefined ? fallback() : v, path, ctx)
}

type Shape = Record<string, Rule<unknown>>
type Out<S extends Shape> = { [K in keyof S]: Exclude<ReturnType<S[K]>, typeof BAD> }

/**
 * A strict object: unknown keys are one `unrecognized_keys` issue; every field is checked (all issues
 * reported at once); `refine` runs only on an otherwise valid object (zod 4 sometimes runs it on a
 * partly invalid one: a cross-field rule over an invalid field adds nothing). Absent optional fields
 * stay absent in the output.
 */
export function object<S extends Shape>(shape: S): Rule<Out<S>>
export function object<S extends Shape, R>(shape: S, refine: (value: Out<S>, path: PropertyKey[], ctx: Ctx) => R | typeof BAD): Rule<R>
export function object<S extends Shape, R>(shape: S, refine?: (value: Out<S>, path: PropertyKey[], ctx: Ctx) => R | typeof BAD): Rule<R | Out<S>> {
  return (v, path, ctx) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return issue(ctx, path, `expected object, received ${kind(v)}`, v)
    const input = v as Record<string, unknown>
    const unknown = Object.keys(input).filter((k) => !Object.hasOwn(shape, k))
    let ok = unknown.length === 0
    if (!ok) ctx.issues.push({ code: 'unrecognized_keys', keys: unknown, path, message: `unknown fields: ${unknown.join(', ')}`, input })
    const out: Record<string, unknown> = {}
    for (const [key, rule] of Object.entries(shape)) {
      const r = rule(input[key], [...path, key], ctx)
      if (r === BAD) ok = false
      else if (r !== undefined || key in input) out[key] = r
    }
    if (!ok) return BAD
    return refine === undefined ? (out as Out<S>) : refine(out as Out<S>, path, ctx)
  }
}
