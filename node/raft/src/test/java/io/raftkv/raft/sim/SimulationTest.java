package io.raftkv.raft.sim;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the whole-cluster simulation over fixed seeds (CI) and, on demand, over any number of
 * random seeds. A failure prints the seed and the exact command that replays it.
 *
 * <ul>
 *   <li>{@code mvn -pl node/raft test -Dtest=SimulationTest -Dsim.seeds=100000}: random seeds</li>
 *   <li>{@code mvn -pl node/raft test -Dtest=SimulationTest#replay -Dsim.seed=S -Dsim.nodes=N}: one seed, traced</li>
 * </ul>
 */
class SimulationTest {

    static String replayCommand(Simulation.Outcome o) {
        return "mvn -pl node/raft -am test -Dsurefire.failIfNoSpecifiedTests=false -Dtest=SimulationTest#replay"
                + " -Dsim.seed=" + o.seed() + " -Dsim.nodes=" + o.nodes();
    }

    private static void runSeeds(int nodes, long firstSeed, int count) {
        List<String> failures = new ArrayList<>();
        int ops = 0;
        int crashes = 0;
        int changes = 0;
        int snapshots = 0;
        for (long seed = firstSeed; seed < firstSeed + count; seed++) {
            Simulation.Outcome o = Simulation.run(Simulation.Options.standard(nodes, seed));
            ops += o.completedOperations();
            crashes += o.crashes();
            changes += o.confChanges();
            snapshots += o.snapshotsSent();
            if (!o.ok()) {
                failures.add("seed " + seed + " (" + nodes + " nodes): " + o.failure() + "\n  replay: " + replayCommand(o));
            }
        }
        System.out.printf("simulation: %d nodes, %d seeds, %d completed client ops, %d crashes, %d conf changes, %d snapshots sent%n",
                nodes, count, ops, crashes, changes, snapshots);
        assertThat(failures).as("failing seeds").isEmpty();
        // The runs must actually exercise the faults they claim to.
        assertThat(ops).isGreaterThan(count * 20);
        assertThat(crashes).isGreaterThan(count);
        assertThat(changes).isGreaterThan(count / 4);
    }

    @Test
    void threeNodeClustersStaySafeAndLiveOverFixedSeeds() {
        runSeeds(3, 1_000, 200);
    }

    @Test
    void fiveNodeClustersStaySafeAndLiveOverFixedSeeds() {
        runSeeds(5, 2_000, 200);
    }

    @Test
    void sevenNodeClustersStaySafeAndLiveOverFixedSeeds() {
        runSeeds(7, 3_000, 100);
    }

    @Test
    void clustersUnderLeaderChurnStaySafeAndLiveOverFixedSeeds() {
        List<String> failures = new ArrayList<>();
        for (long seed = 4_000; seed < 4_300; seed++) {
            Simulation.Outcome o = Simulation.run(Simulation.Options.standard(seed % 2 == 0 ? 3 : 5, seed).withLeaderChurn());
            if (!o.ok()) {
                failures.add("seed " + seed + ": " + o.failure());
            }
        }
        assertThat(failures).as("failing seeds (replay with -Dsim.churn=true)").isEmpty();
    }

    /** {@code -Dsim.seeds=N}: N random seeds across 3, 5 and 7 nodes; skipped when 0. */
    @Test
    void randomSeeds() {
        int n = Integer.getInteger("sim.seeds", 0);
        if (n <= 0) {
            return;
        }
        SplittableRandom r = new SplittableRandom();
        int[] sizes = {3, 5, 7};
        for (int i = 0; i < n; i++) {
            long seed = r.nextLong() & Long.MAX_VALUE;
            int nodes = sizes[i % 3];
            Simulation.Outcome o = Simulation.run(Simulation.Options.standard(nodes, seed));
            if (!o.ok()) {
                System.out.println("FAILED seed " + seed + ": " + o.failure());
                System.out.println("replay: " + replayCommand(o));
            }
            assertThat(o.ok()).as("seed %d: %s; replay with %s", seed, o.failure(), replayCommand(o)).isTrue();
        }
        System.out.println("simulation: " + n + " random seeds passed");
    }

    /** {@code -Dsim.seed=S [-Dsim.nodes=N]}: replays one seed and prints its trace. */
    @Test
    void replay() {
        String s = System.getProperty("sim.seed", "");
        if (s.isEmpty()) {
            return;
        }
        Simulation.Options opt = Simulation.Options.standard(Integer.getInteger("sim.nodes", 3), Long.parseLong(s));
        if (Boolean.getBoolean("sim.churn")) {
            opt = opt.withLeaderChurn();
        }
        Simulation.Outcome o = Simulation.run(opt.withTrace(true));
        o.trace().forEach(System.out::println);
        assertThat(o.failure()).isNull();
    }
}
