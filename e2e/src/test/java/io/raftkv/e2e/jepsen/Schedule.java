package io.raftkv.e2e.jepsen;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A run's fault plan, fixed before the run from its seed: a healthy warm-up, then windows of
 * faults separated by healthy gaps, cycling through the given faults in a seeded order, and a
 * healthy tail. Printed in the report, so a failure names the schedule that found it.
 *
 * @param steps the windows, in time order
 */
record Schedule(List<Step> steps) {

    /**
     * One fault window.
     *
     * @param atMs       start, milliseconds after the workloads start
     * @param fault      what to inject
     * @param durationMs how long the fault lasts before it is undone
     */
    record Step(long atMs, Fault fault, long durationMs) {
        @Override
        public String toString() {
            return String.format("+%6.1fs  %-17s for %.1fs", atMs / 1000.0, fault, durationMs / 1000.0);
        }
    }

    /**
     * Plans windows of about {@code windowMs} (±25 %) separated by {@code gapMs} within {@code totalMs},
     * starting after one gap and leaving one gap at the end; faults come from {@code faults} in a
     * seeded order that uses each before repeating any.
     */
    static Schedule plan(long seed, List<Fault> faults, long totalMs, long windowMs, long gapMs) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Step> steps = new ArrayList<>();
        List<Fault> bag = new ArrayList<>();
        long t = gapMs;
        while (!faults.isEmpty()) {
            long duration = windowMs * 3 / 4 + rnd.nextLong(windowMs / 2 + 1);
            if (t + duration + gapMs > totalMs) {
                break;
            }
            if (bag.isEmpty()) {
                bag.addAll(faults);
            }
            Fault f = bag.remove(rnd.nextInt(bag.size()));
            steps.add(new Step(t, f, duration));
            t += duration + gapMs;
        }
        return new Schedule(List.copyOf(steps));
    }

    /** One line per step. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        steps.forEach(s -> out.append(s).append('\n'));
        return out.toString();
    }
}
