package io.raftkv.e2e.jepsen;

import io.raftkv.lincheck.Operation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Writes a run's report directory: {@code report.md} (setup, planned schedule, fault timeline,
 * verdicts with the smallest failing sub-history, request counts and latency percentiles per
 * operation), {@code history.txt} (every checked operation, times in ms since the load started) and
 * {@code latency.svg}. The node logs are already there (the cluster writes them in the same place).
 */
final class Report {

    private Report() {
    }

    static void write(JepsenRun.Outcome outcome, JepsenCluster cluster, Net net, Schedule schedule, List<String> notes,
                      List<Operation> operations, List<History.Sample> samples, List<Map.Entry<String, Long>> errors,
                      long endNanos) throws IOException {
        Scenario s = outcome.scenario();
        Path dir = outcome.reportDir();
        StringBuilder md = new StringBuilder();
        md.append("# Jepsen-style run: ").append(s.name()).append("\n\n");
        md.append("- verdict: **").append(outcome.passed() ? "PASS" : "FAIL").append("**\n");
        md.append("- system: ").append(s.kind().name().toLowerCase(Locale.ROOT)).append(", ").append(s.nodes())
                .append(" nodes, --heartbeat-interval ").append(cluster.timing().heartbeatMs())
                .append(" --election-timeout ").append(cluster.timing().electionMs()).append('\n');
        md.append("- network: ").append(net.mode()).append('\n');
        notes.forEach(n -> md.append("- cannot inject: ").append(n).append('\n'));
        md.append("- seed: ").append(s.seed()).append(" (the schedule and the clients' choices follow from it; replay with `")
                .append(s.name().startsWith("soak") ? "e2e/jepsen.sh soak" : "e2e/jepsen.sh battery --scenarios " + s.name())
                .append(" --seed ").append(s.seed()).append("`)\n");
        md.append("- load: ").append(s.duration().toSeconds()).append(" s; history: ").append(operations.size())
                .append(" checked operations, ").append(samples.size()).append(" requests in all\n");
        md.append("- members at the end: ").append(cluster.members().stream().map(cluster::name).toList()).append("\n\n");
        md.append("## Planned schedule (seconds after the load started)\n\n```\n").append(schedule).append("```\n\n");
        md.append("## Fault timeline (what the nemesis did)\n\n```\n");
        outcome.timeline().forEach(w -> md.append(w).append('\n'));
        md.append("```\n\n## Verdicts\n\n");
        for (Workload.Result r : outcome.results()) {
            md.append("- **").append(r.workload()).append("**: ").append(r.verdict()).append(" - ").append(r.summary()).append('\n');
            if (!r.details().isEmpty()) {
                md.append("\n```\n");
                r.details().forEach(d -> md.append(d).append('\n'));
                md.append("```\n");
                if (r.workload().equals("register")) {
                    md.append("(operation times are nanoseconds since the load started; see history.txt)\n");
                }
            }
        }
        md.append("\n## Requests\n\n| request | outcome | count | p50 ms | p99 ms | max ms |\n|---|---|---:|---:|---:|---:|\n");
        Map<String, Map<History.Outcome, List<Long>>> byLabel = new TreeMap<>();
        for (History.Sample sample : samples) {
            byLabel.computeIfAbsent(sample.label(), l -> new EnumMap<>(History.Outcome.class))
                    .computeIfAbsent(sample.outcome(), o -> new java.util.ArrayList<>()).add(sample.latencyNanos());
        }
        byLabel.forEach((label, outcomes) -> outcomes.forEach((o, latencies) -> {
            latencies.sort(null);
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f |%n", label, o, latencies.size(),
                    percentile(latencies, 0.50), percentile(latencies, 0.99), latencies.get(latencies.size() - 1) / 1e6));
        }));
        md.append("\n## Client errors (by message)\n\n```\n");
        errors.stream().limit(15).forEach(e -> md.append(String.format(Locale.ROOT, "%6d  %s%n", e.getValue(), e.getKey())));
        md.append("```\n\n## Latency over time\n\n![latency](latency.svg)\n\n## Node logs\n\n");
        md.append(cluster.members().stream().map(m -> "[" + cluster.name(m) + ".log](" + cluster.name(m) + ".log)")
                .collect(Collectors.joining(", "))).append(" (and the logs of removed members, if any)\n");
        Files.writeString(dir.resolve("report.md"), md);
        Files.write(dir.resolve("history.txt"), operations.stream().map(Report::line).toList());
        Files.writeString(dir.resolve("latency.svg"), LatencyPlot.svg(s.toString(), samples, outcome.timeline(), endNanos));
    }

    private static double percentile(List<Long> sorted, double q) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(q * sorted.size()))) / 1e6;
    }

    /** One history line: the operation with its times in milliseconds. */
    private static String line(Operation op) {
        return String.format(Locale.ROOT, "%10.3f %10s  %s", op.call() / 1e6,
                op.indeterminate() ? "?" : String.format(Locale.ROOT, "%.3f", op.ret() / 1e6), op.describe());
    }
}
