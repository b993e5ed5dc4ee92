/**
 * The pure planner: {@link io.raftkv.operator.plan.Planner#plan} maps what the user wants
 * ({@link io.raftkv.operator.plan.Desired}) and what was just observed
 * ({@link io.raftkv.operator.plan.Observed}) to the one next {@link io.raftkv.operator.plan.Step}.
 * No I/O, no clock (the observation carries {@code now}), no state between calls: every decision
 * is derived from observed state, so an operator killed between two steps resumes where it left
 * off without repeating or skipping a membership change.
 *
 * <p>Invariants every returned step keeps: at most one membership change in flight (a learner
 * not yet promoted, or a StatefulSet size that does not match the member list, is an unfinished
 * change that is finished first); never an action that leaves fewer than a quorum of healthy
 * voters; no action at all while quorum is lost.
 */
package io.raftkv.operator.plan;
