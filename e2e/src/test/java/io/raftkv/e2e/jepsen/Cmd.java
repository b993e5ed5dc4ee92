package io.raftkv.e2e.jepsen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short host commands (ip, nft, kill, mount) and waits for them; bounded to 20 s each. */
final class Cmd {

    private Cmd() {
    }

    /** The exit code and combined output of a finished command. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs {@code args}; never throws for a non-zero exit (the caller decides). */
    static Result run(List<String> args) {
        try {
            Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(124, out + "\n(timed out)");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(127, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        }
    }

    /** Runs {@code args} and throws {@link IllegalStateException} with the output if it fails. */
    static String check(String... args) {
        Result r = run(List.of(args));
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", args) + " failed (" + r.exitCode() + "): " + r.output().strip());
        }
        return r.output();
    }

    /** Runs {@code args}, ignoring failure: for cleanup of things that may already be gone. */
    static void quiet(String... args) {
        run(List.of(args));
    }
}
