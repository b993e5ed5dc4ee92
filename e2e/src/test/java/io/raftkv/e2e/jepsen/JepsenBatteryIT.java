package io.raftkv.e2e.jepsen;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short battery CI runs: four scenarios of about 20 s each, on 3 and 5 nodes, covering every
 * fault kind; each must end with a linearizable register history and no lost acknowledged write.
 * {@code -Djepsen.seed=S} fixes the seed of every scenario, {@code -Djepsen.system=etcd} runs the
 * same battery against etcd 3.4 (a check of the harness itself), {@code -Djepsen.seconds=N} changes
 * the load time, {@code -Djepsen.scenarios=a,b} runs only those. Reports land in {@code e2e/target/jepsen/}.
 */
class JepsenBatteryIT {

    /** The CI scenarios; also the ones {@code jepsen.sh} can name. */
    static Stream<Scenario> battery() {
        long seed = Long.getLong("jepsen.seed", System.nanoTime() % 1_000_000);
        JepsenCluster.Kind kind = JepsenCluster.Kind.valueOf(
                System.getProperty("jepsen.system", "raftkv").toUpperCase(Locale.ROOT));
        Duration load = Duration.ofSeconds(Long.getLong("jepsen.seconds", 20));
        String only = System.getProperty("jepsen.scenarios", "");
        return Stream.of(
                new Scenario("crash-3", kind, 3, List.of(Fault.KILL, Fault.PAUSE, Fault.DISK_FULL), load, 3_000, 2_000, seed),
                new Scenario("partition-3", kind, 3,
                        List.of(Fault.PARTITION_LEADER, Fault.PARTITION_HALVES, Fault.PARTITION_ONE_WAY), load, 3_000, 2_000, seed),
                new Scenario("partition-5", kind, 5,
                        List.of(Fault.PARTITION_BRIDGE, Fault.PARTITION_HALVES, Fault.PARTITION_ONE_WAY), load, 3_000, 2_000, seed),
                new Scenario("mixed-5", kind, 5,
                        List.of(Fault.MEMBERSHIP, Fault.REPLACE_TWO, Fault.KILL, Fault.PAUSE, Fault.PARTITION_LEADER), load, 3_000, 2_000, seed))
                .filter(s -> only.isBlank() || List.of(only.split(",")).contains(s.name()));
    }

    /**
     * The workloads of every run: registers checked for linearizability, durability, watch and
     * lease (the last two report SKIPPED on a server that answers UNIMPLEMENTED for Watch or Lease).
     */
    static List<Workload> workloads() {
        return List.of(new RegisterWorkload(8, 4, 60, 1_500), new DurabilityWorkload(2, 1_500),
                new WatchWorkload(2, 1_500), new LeaseWorkload(2, 4, 1_500));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("battery")
    void scenarioEndsLinearizableWithNoLostAcknowledgedWrite(Scenario scenario) throws Exception {
        JepsenRun.Outcome outcome = JepsenRun.run(scenario, JepsenBatteryIT::workloads);
        assertThat(outcome.operations()).as("the register workload made progress").isGreaterThan(50);
        assertThat(outcome.passed()).as(outcome.summary()).isTrue();
    }
}
