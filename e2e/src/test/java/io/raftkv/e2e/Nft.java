package io.raftkv.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real packet drops between loopback addresses with nftables: one table per test run, removed on
 * {@link #close()} and by a shutdown hook, so that nothing outlives the run. Needs root and
 * {@code nft}; {@link #available()} says whether this machine has both.
 */
final class Nft implements AutoCloseable {
    private final String table = "raftkv_e2e_" + ProcessHandle.current().pid();
    private final Thread cleanup = new Thread(this::deleteQuietly, "nft-cleanup");

    private Nft() throws IOException, InterruptedException {
        run("add", "table", "inet", table);
        run("add", "chain", "inet", table, "out", "{ type filter hook output priority 0 ; policy accept ; }");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /** Creates this run's table; fails if nft is missing or we are not root. */
    static Nft create() throws IOException, InterruptedException {
        return new Nft();
    }

    /** True if {@code nft} runs here with the rights to add a table. */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Drops every packet between {@code host} and each of {@code others}, both ways. */
    void isolate(String host, List<String> others) throws IOException, InterruptedException {
        for (String o : others) {
            run("add", "rule", "inet", table, "out", "ip", "saddr", host, "ip", "daddr", o, "drop");
            run("add", "rule", "inet", table, "out", "ip", "saddr", o, "ip", "daddr", host, "drop");
        }
    }

    /** Removes every rule: the network is whole again. */
    void heal() throws IOException, InterruptedException {
        run("flush", "chain", "inet", table, "out");
    }

    @Override
    public void close() {
        deleteQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    private void deleteQuietly() {
        try {
            run("delete", "table", "inet", table);
        } catch (IOException | InterruptedException | IllegalStateException e) {
            // already gone
        }
    }

    private static void run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("nft"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("nft " + String.join(" ", args) + " failed: " + out);
        }
    }
}
