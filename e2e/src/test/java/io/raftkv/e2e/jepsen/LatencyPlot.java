package io.raftkv.e2e.jepsen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws request latency over time as an SVG scatter plot, one dot per request (log-scale latency),
 * with the nemesis's fault windows shaded and labelled. Errors are red, timeouts black. Long runs are
 * thinned to at most {@link #MAX_DOTS} successful dots (every failure is kept). Pure function of its
 * input; writes no files.
 */
final class LatencyPlot {
    static final int MAX_DOTS = 30_000;
    private static final int WIDTH = 1100;
    private static final int HEIGHT = 460;
    private static final int LEFT = 70;
    private static final int RIGHT = 180;
    private static final int TOP = 30;
    private static final int BOTTOM = 50;
    private static final String[] PALETTE = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
    private static final Map<Fault, String> SHADE = Map.of(
            Fault.KILL, "#d62728", Fault.PAUSE, "#bcbd22", Fault.PARTITION_LEADER, "#1f77b4",
            Fault.PARTITION_HALVES, "#17becf", Fault.PARTITION_BRIDGE, "#9467bd", Fault.PARTITION_ONE_WAY, "#e377c2",
            Fault.MEMBERSHIP, "#2ca02c", Fault.DISK_FULL, "#8c564b",
            Fault.REPLACE_TWO, "#7f7f7f");

    private LatencyPlot() {
    }

    /** The SVG document for {@code samples} and {@code windows}, titled {@code title}, spanning {@code endNanos}. */
    static String svg(String title, List<History.Sample> samples, List<Nemesis.Window> windows, long endNanos) {
        double seconds = Math.max(1, endNanos / 1e9);
        long maxLatency = samples.stream().mapToLong(History.Sample::latencyNanos).max().orElse(1_000_000);
        double minLog = -1; // 0.1 ms
        double maxLog = Math.max(1, Math.ceil(Math.log10(Math.max(1, maxLatency / 1e6))));
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
                WIDTH, HEIGHT));
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\">%s</text>%n", LEFT, escape(title)));
        for (Nemesis.Window w : windows) {
            double x0 = LEFT + plotW * (w.startNanos() / 1e9) / seconds;
            double x1 = LEFT + plotW * (w.endNanos() / 1e9) / seconds;
            out.append(String.format(Locale.ROOT,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.15\"><title>%s</title></rect>%n",
                    x0, TOP, Math.max(1, x1 - x0), plotH, SHADE.get(w.fault()), escape(w.fault() + ": " + w.detail())));
            out.append(String.format(Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"%s\">%s</text>%n",
                    x0 + 2, TOP + 10, SHADE.get(w.fault()), w.fault().name().toLowerCase(Locale.ROOT)));
        }
        for (int d = (int) minLog; d <= maxLog; d++) {
            double y = TOP + plotH - plotH * (d - minLog) / (maxLog - minLog);
            out.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s ms</text>%n",
                    LEFT, y, LEFT + plotW, y, LEFT - 5, y + 4, d < 0 ? "0.1" : Long.toString((long) Math.pow(10, d))));
        }
        double step = Math.max(1, Math.ceil(seconds / 12));
        for (double s = 0; s <= seconds; s += step) {
            double x = LEFT + plotW * s / seconds;
            out.append(String.format(Locale.ROOT,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0fs</text>%n",
                    x, TOP + plotH, x, TOP + plotH + 5, x, TOP + plotH + 18, s));
        }
        out.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>%n", LEFT, TOP, plotW, plotH));
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">time since start of load</text>%n",
                LEFT + plotW / 2 - 60, HEIGHT - 12));
        Map<String, String> colours = new LinkedHashMap<>();
        long okCount = samples.stream().filter(s -> s.outcome() == History.Outcome.OK).count();
        long keepEvery = Math.max(1, okCount / MAX_DOTS);
        long okSeen = 0;
        for (History.Sample s : samples) {
            if (s.outcome() == History.Outcome.OK && okSeen++ % keepEvery != 0) {
                continue;
            }
            String colour = switch (s.outcome()) {
                case OK -> colours.computeIfAbsent(s.label(), l -> PALETTE[colours.size() % PALETTE.length]);
                case ERROR -> "#d62728";
                case TIMEOUT -> "#000000";
            };
            double x = LEFT + plotW * (s.atNanos() / 1e9) / seconds;
            double log = Math.log10(Math.max(1e-1, s.latencyNanos() / 1e6));
            double y = TOP + plotH - plotH * (Math.min(log, maxLog) - minLog) / (maxLog - minLog);
            out.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.3\" fill=\"%s\" fill-opacity=\"0.6\"/>%n",
                    x, y, colour));
        }
        List<String[]> legend = new ArrayList<>();
        colours.forEach((label, colour) -> legend.add(new String[] {label + " ok", colour}));
        legend.add(new String[] {"error", "#d62728"});
        legend.add(new String[] {"timeout", "#000000"});
        int y = TOP + 10;
        for (String[] entry : legend) {
            out.append(String.format(Locale.ROOT,
                    "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
                    LEFT + plotW + 15, y, entry[1], LEFT + plotW + 25, y + 4, escape(entry[0])));
            y += 16;
        }
        if (okCount > MAX_DOTS) {
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"9\">1 in %d successes drawn</text>%n",
                    LEFT + plotW + 15, y + 4, keepEvery));
        }
        out.append("</svg>\n");
        return out.toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
