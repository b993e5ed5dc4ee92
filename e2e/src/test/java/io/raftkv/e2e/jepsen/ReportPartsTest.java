package io.raftkv.e2e.jepsen;

import org.junit.jupiter.api.Test;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The schedule planner and the latency plot: pure functions, tested without processes. */
class ReportPartsTest {

    @Test
    void scheduleIsAFunctionOfTheSeedAndFitsTheRun() {
        List<Fault> faults = List.of(Fault.KILL, Fault.PAUSE, Fault.PARTITION_HALVES);
        Schedule a = Schedule.plan(42, faults, 60_000, 3_000, 2_000);
        assertThat(Schedule.plan(42, faults, 60_000, 3_000, 2_000)).isEqualTo(a);
        assertThat(a.steps()).isNotEmpty();
        long t = 0;
        for (Schedule.Step s : a.steps()) {
            assertThat(s.atMs()).as("windows do not overlap and leave a healthy gap").isGreaterThanOrEqualTo(t + 2_000);
            assertThat(s.durationMs()).isBetween(2_250L, 3_750L);
            t = s.atMs() + s.durationMs();
        }
        assertThat(t + 2_000).as("a healthy tail before the run ends").isLessThanOrEqualTo(60_000);
        assertThat(a.steps().subList(0, 3).stream().map(Schedule.Step::fault).collect(Collectors.toSet()))
                .as("every fault is used before any repeats").isEqualTo(EnumSet.copyOf(faults));
    }

    @Test
    void latencyPlotIsWellFormedSvgWithOneShadeperWindowAndOneDotPerRequest() throws Exception {
        List<History.Sample> samples = List.of(
                new History.Sample(1_000_000_000L, 2_000_000L, "register GET", History.Outcome.OK),
                new History.Sample(2_000_000_000L, 1_500_000_000L, "register PUT", History.Outcome.TIMEOUT),
                new History.Sample(3_000_000_000L, 3_000_000L, "register PUT", History.Outcome.ERROR));
        List<Nemesis.Window> windows = List.of(
                new Nemesis.Window(1_500_000_000L, 2_500_000_000L, Fault.KILL, "kill -9 n1 (leader)"),
                new Nemesis.Window(3_500_000_000L, 4_000_000_000L, Fault.PARTITION_BRIDGE, "[n1] | [n2], bridge n3 <sees> both"));
        String svg = LatencyPlot.svg("test & run", samples, windows, 5_000_000_000L);
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        assertThat(svg).contains("kill -9 n1 (leader)").contains("&lt;sees&gt;").contains("fill-opacity=\"0.15\"");
        long shades = svg.lines().filter(l -> l.contains("fill-opacity=\"0.15\"")).count();
        assertThat(shades).isEqualTo(2);
        long dots = svg.lines().filter(l -> l.startsWith("<circle cx=") && l.contains("r=\"1.3\"")).count();
        assertThat(dots).isEqualTo(3);
        assertThat(Set.of(svg.split("\n"))).anyMatch(l -> l.contains("timeout"));
    }
}
