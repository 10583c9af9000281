/**
 * Seeded randomness for the simulator, on pure-rand's xoroshiro128+. Every draw names the generator
 * it takes from, so a run is a function of its seed: no Math.random anywhere in the simulator.
 *
 * Generators are mutable (pure-rand's in-place API), which keeps a 10,000-device fleet cheap; each
 * device owns its own generators, so what one device does never shifts the draws of another.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'

export type Rng = RandomGenerator

export function rngFrom(seed: number): Rng {
  return xoroshiro128plus(seed | 0)
}

/** A seed for a child generator, drawn from a parent: children are independent of each other's use. */
export function childSeed(rng: Rng): number {
  return uniformInt(rng, -0x80000000, 0x7fffffff)
}

/** Uniform in [0, 1). */
export function uniform(rng: Rng): number {
  return uniformFloat64(rng)
}

/** Uniform in [min, max). */
export function between(rng: Rng, min: number, max: number): number {
  return min + (max - min) * uniformFloat64(rng)
}

/** Uniform integer in [min, max], both included. */
export function integer(rng: Rng, min: number, max: number): number {
  return uniformInt(rng, min, max)
}

export function chance(rng: Rng, p: number): boolean {
  return p > 0 && uniformFloat64(rng) < p
}

/** Standard normal (Box–Muller). */
export function normal(rng: Rng): number {
  const u = 1 - uniformFloat64(rng) // (0, 1]: log(0) never happens
  const v = uniformFloat64(rng)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** Log-normal with the given median and the spread of its logarithm. */
export function logNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng))
}

export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - uniformFloat64(rng))
}

/** Poisson count: exact (Knuth) for small means, the normal approximation for large ones. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0
  if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)))
  const limit = Math.exp(-mean)
  let k = 0
  let p = uniformFloat64(rng)
  while (p > limit) {
    k++
    p *= uniformFloat64(rng)
  }
  return k
}

/** An index chosen with probability proportional to its weight. */
export function weighted(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0)
  let x = uniformFloat64(rng) * total
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] as number
    if (x < 0) return i
  }
  return weights.length - 1
}

/** Rounds to an integer up or down at random, so that many small fractions add up to their sum. */
export function stochasticRound(rng: Rng, x: number): number {
  const floor = Math.floor(x)
  return floor + (uniformFloat64(rng) < x - floor ? 1 : 0)
}
