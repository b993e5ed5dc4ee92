package io.raftkv.e2e.jepsen;

import io.raftkv.lincheck.Operation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One Jepsen-style run: a fresh net and cluster, workloads under a fault schedule, recovery, checks,
 * and a report directory ({@code target/jepsen/<time>-<scenario>-<seed>/}: report.md, history.txt,
 * latency.svg, node logs). Everything the run created (processes, namespaces, rules, data dirs) is
 * removed when it ends, normally or not; a shutdown hook covers a JVM that is killed mid-run.
 */
final class JepsenRun {

    /**
     * What a run found.
     *
     * @param scenario  what ran
     * @param reportDir where the report is
     * @param results   one per workload, plus "recovery" when the cluster did not heal
     * @param operations how many operations the linearizability checker saw
     * @param requests  how many requests the clients sent in all
     * @param timeline  what the nemesis did
     */
    record Outcome(Scenario scenario, Path reportDir, List<Workload.Result> results, int operations, int requests,
                   List<Nemesis.Window> timeline) {

        /** True if no workload failed or stayed undecided (skipped workloads do not count). */
        boolean passed() {
            return results.stream().allMatch(r -> r.verdict() == Workload.Verdict.PASS || r.verdict() == Workload.Verdict.SKIPPED);
        }

        /** One line per workload for logs and assertion messages. */
        String summary() {
            StringBuilder out = new StringBuilder(scenario + ": " + operations + " checked operations, " + requests
                    + " requests, " + timeline.size() + " fault windows; report " + reportDir.resolve("report.md") + "\n");
            results.forEach(r -> out.append("  ").append(r.workload()).append(": ").append(r.verdict()).append(" - ")
                    .append(r.summary()).append('\n'));
            return out.toString();
        }
    }

    private static final Duration RECOVERY = Duration.ofSeconds(90);
    private static final Duration CHECK_BUDGET = Duration.ofSeconds(60);
    /** Each node's tmpfs in DISK_FULL scenarios: room for two preallocated 64 MiB WAL segments and the store. */
    private static final long DISK_BYTES = 384L << 20;

    private JepsenRun() {
    }

    /** Runs {@code scenario} with fresh workloads from {@code workloads}; never leaves processes or namespaces behind. */
    static Outcome run(Scenario scenario, Supplier<List<Workload>> workloads) throws Exception {
        Path reportDir = Path.of(System.getProperty("jepsen.dir", "target/jepsen")).toAbsolutePath()
                .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                        + "-" + scenario.name() + "-" + scenario.seed());
        Files.createDirectories(reportDir);
        System.out.println("jepsen: starting " + scenario + "; report in " + reportDir);
        try (Net net = Net.create()) {
            List<Fault> faults = new ArrayList<>(scenario.faults());
            List<String> notes = new ArrayList<>(net.cannotInject());
            if (!net.canPartition() && faults.removeIf(Fault::partition)) {
                notes.add("partition faults removed from the schedule: " + net.mode());
            }
            boolean canMount = "root".equals(System.getProperty("user.name"));
            if (!canMount && faults.remove(Fault.DISK_FULL)) {
                notes.add("DISK_FULL removed from the schedule: mounting a tmpfs needs root");
            }
            Schedule schedule = Schedule.plan(scenario.seed(), faults, scenario.duration().toMillis(),
                    scenario.windowMs(), scenario.gapMs());
            JepsenCluster cluster = JepsenCluster.start(scenario.kind(), scenario.nodes(), net,
                    JepsenCluster.Timing.DEFAULT, reportDir, faults.contains(Fault.DISK_FULL) ? DISK_BYTES : 0);
            Thread hook = new Thread(cluster::close, "jepsen-cluster-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                return runLoaded(scenario, workloads.get(), net, cluster, schedule, notes, reportDir);
            } finally {
                cluster.close();
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
    }

    private static Outcome runLoaded(Scenario scenario, List<Workload> workloads, Net net, JepsenCluster cluster,
                                     Schedule schedule, List<String> notes, Path reportDir) throws Exception {
        History history = new History();
        Nemesis nemesis = new Nemesis(cluster, net, schedule, history, scenario.seed());
        for (Workload w : workloads) {
            w.start(cluster, history, scenario.seed());
        }
        nemesis.start();
        Thread.sleep(scenario.duration().toMillis());
        nemesis.finish();
        List<Workload.Result> results = new ArrayList<>();
        try {
            cluster.awaitHealthy(RECOVERY);
            Thread.sleep(2_000); // a little load on the healed cluster, so recovery shows in the plot
        } catch (IllegalStateException notHealed) {
            results.add(new Workload.Result("recovery", Workload.Verdict.FAIL,
                    "the cluster did not recover within " + RECOVERY + " after every fault was undone",
                    List.of(notHealed.getMessage())));
        }
        long end = history.now();
        for (Workload w : workloads) {
            w.stop();
        }
        for (Workload w : workloads) {
            results.add(w.check(cluster, CHECK_BUDGET));
        }
        List<Operation> operations = history.operations();
        List<History.Sample> samples = history.samples();
        Outcome outcome = new Outcome(scenario, reportDir, results, operations.size(), samples.size(), nemesis.timeline());
        Report.write(outcome, cluster, net, schedule, notes, operations, samples, history.errors(), end);
        System.out.print("jepsen: " + outcome.summary());
        return outcome;
    }
}
