package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Raft core is pure: no I/O, no threads, no wall clock, no global randomness, and no
 * dependency outside the JDK's language and collection packages. This scans every main source
 * file of the module, so a new file cannot slip past it.
 */
class RaftPurityTest {

    private static final List<Pattern> FORBIDDEN = List.of(
            Pattern.compile("^import\\s+(static\\s+)?java\\.io\\."),
            Pattern.compile("^import\\s+(static\\s+)?java\\.nio\\."),
            Pattern.compile("^import\\s+(static\\s+)?java\\.net\\."),
            Pattern.compile("^import\\s+(static\\s+)?java\\.util\\.concurrent"),
            Pattern.compile("^import\\s+(static\\s+)?java\\.time\\."),
            Pattern.compile("^import\\s+(static\\s+)?java\\.util\\.logging"),
            Pattern.compile("^import\\s+(static\\s+)?java\\.util\\.Random;"),
            Pattern.compile("^import\\s+(static\\s+)?java\\.lang\\.reflect"),
            Pattern.compile("^import\\s+(?!(static\\s+)?(java\\.util\\.|io\\.raftkv\\.raft\\.)).*"),
            Pattern.compile("System\\.(currentTimeMillis|nanoTime|getenv|getProperty|exit|in|out|err)\\b"),
            Pattern.compile("\\b(Thread|ThreadLocal|ThreadLocalRandom|Executors?|CompletableFuture|Instant|Clock|LocalDateTime)\\b"),
            Pattern.compile("Math\\.random|new\\s+Random\\s*\\(|new\\s+SplittableRandom\\s*\\(\\s*\\)"),
            Pattern.compile("\\bsynchronized\\b|\\bvolatile\\b"),
            Pattern.compile("\\bjava\\.(io|nio|net)\\."));

    @Test
    void coreImportsNoIoThreadsClockOrGlobalRandom() throws IOException {
        Path root = Path.of("src/main/java/io/raftkv/raft");
        assertThat(root).isDirectory();
        List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                List<String> lines = Files.readAllLines(p);
                for (int i = 0; i < lines.size(); i++) {
                    String line = stripComment(lines.get(i));
                    for (Pattern f : FORBIDDEN) {
                        if (f.matcher(line).find()) {
                            violations.add(p.getFileName() + ":" + (i + 1) + ": " + line.trim());
                        }
                    }
                }
            }
        }
        assertThat(files).isGreaterThan(10);
        assertThat(violations).as("impure constructs in the Raft core").isEmpty();
    }

    @Test
    void theScanCatchesAnImpureLine() {
        String impure = "        long now = System.currentTimeMillis();";
        assertThat(FORBIDDEN.stream().anyMatch(f -> f.matcher(impure).find())).isTrue();
        assertThat(FORBIDDEN.stream().anyMatch(f -> f.matcher("import java.io.File;").find())).isTrue();
        assertThat(FORBIDDEN.stream().anyMatch(f -> f.matcher("import org.slf4j.Logger;").find())).isTrue();
        assertThat(FORBIDDEN.stream().anyMatch(f -> f.matcher("import java.util.List;").find())).isFalse();
    }

    private static String stripComment(String line) {
        String t = line.trim();
        if (t.startsWith("*") || t.startsWith("/*") || t.startsWith("//")) {
            return "";
        }
        int c = line.indexOf("//");
        return c >= 0 ? line.substring(0, c) : line;
    }
}
