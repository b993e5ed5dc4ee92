package io.raftkv.e2e.jepsen;

import java.time.Duration;
import java.util.List;

/**
 * Everything that defines one run, so that a report can name it and a failure can be replayed:
 * which server, how many nodes, which faults, how long, and the seed that fixes the schedule and
 * the clients' choices (thread timing on real processes is not reproducible; the plan is).
 *
 * @param name     short name, used in the report directory
 * @param kind     raftkv or etcd
 * @param nodes    initial cluster size
 * @param faults   the faults the schedule cycles through
 * @param duration how long the load and the faults run
 * @param windowMs typical fault window
 * @param gapMs    healthy time between windows
 * @param seed     fixes the schedule and the clients' random choices
 */
record Scenario(String name, JepsenCluster.Kind kind, int nodes, List<Fault> faults, Duration duration,
                long windowMs, long gapMs, long seed) {

    /** The same scenario with another seed. */
    Scenario withSeed(long newSeed) {
        return new Scenario(name, kind, nodes, faults, duration, windowMs, gapMs, newSeed);
    }

    @Override
    public String toString() {
        return name + " (" + kind.name().toLowerCase(java.util.Locale.ROOT) + ", " + nodes + " nodes, " + faults
                + ", " + duration.toSeconds() + " s, seed " + seed + ")";
    }
}
