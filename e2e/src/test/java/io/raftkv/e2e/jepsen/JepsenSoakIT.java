package io.raftkv.e2e.jepsen;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Long batteries for soak testing, off unless {@code -Djepsen.runs=N} is given: N runs of
 * {@code -Djepsen.minutes=M} (default 5) each, alternating 3 and 5 nodes unless
 * {@code -Djepsen.nodes} fixes it, every fault kind (or {@code -Djepsen.faults=KILL,PAUSE,...}),
 * run i with seed S+i ({@code -Djepsen.seed=S}). All runs execute; the test then fails if any run
 * found a violation, a lost write or an undecided check, listing every run's report.
 * Use {@code e2e/jepsen.sh soak}.
 */
class JepsenSoakIT {

    @Test
    void everySoakRunEndsLinearizableWithNoLostAcknowledgedWrite() throws Exception {
        int runs = Integer.getInteger("jepsen.runs", 0);
        assumeTrue(runs > 0, "soak battery not requested: pass -Djepsen.runs=N (see e2e/jepsen.sh soak)");
        Duration load = Duration.ofSeconds((long) (Double.parseDouble(System.getProperty("jepsen.minutes", "5")) * 60));
        long seed = Long.getLong("jepsen.seed", System.nanoTime() % 1_000_000);
        Integer nodes = Integer.getInteger("jepsen.nodes");
        JepsenCluster.Kind kind = JepsenCluster.Kind.valueOf(
                System.getProperty("jepsen.system", "raftkv").toUpperCase(Locale.ROOT));
        String faultList = System.getProperty("jepsen.faults", "");
        List<Fault> faults = faultList.isBlank() ? List.of(Fault.values())
                : Arrays.stream(faultList.split(",")).map(f -> Fault.valueOf(f.strip().toUpperCase(Locale.ROOT))).toList();
        List<JepsenRun.Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            int n = nodes != null ? nodes : i % 2 == 0 ? 3 : 5;
            Scenario s = new Scenario("soak-" + n, kind, n, faults, load, 4_000, 3_000, seed + i);
            outcomes.add(JepsenRun.run(s, JepsenBatteryIT::workloads));
        }
        StringBuilder all = new StringBuilder();
        outcomes.forEach(o -> all.append(o.summary()));
        System.out.print("jepsen soak:\n" + all);
        assertThat(outcomes).as(all.toString()).allMatch(JepsenRun.Outcome::passed);
    }
}
