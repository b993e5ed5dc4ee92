package io.raftkv.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writing process ({@link CrashChild}) with SIGKILL at random moments, reopens the log,
 * and checks that every acknowledged entry survived with its term and content, that the hard
 * state is at least the last acknowledged one, and that the log is internally consistent; then
 * starts the next child on the same directory.
 *
 * <p>A process kill keeps the page cache, so this exercises torn writes at the process level,
 * not power loss. Default 50 kills; a soak: {@code -Dlog.crash.kills=1000}. The seed is printed
 * and can be fixed with {@code -Dlog.crash.seed=<seed>}.
 */
class SegmentedWalCrashTest {
    private static final int KILLS = Integer.getInteger("log.crash.kills", 50);

    @TempDir
    Path dir;

    /** Acknowledged term of each index; the map is truncated where a later batch overwrote it. */
    private final NavigableMap<Long, Long> ackedTerms = new TreeMap<>();
    private long ackedHardStateTerm;
    private long ackedCommit;

    @Test
    void everyAcknowledgedEntrySurvivesSigkill() throws Exception {
        long seed = Long.getLong("log.crash.seed", System.nanoTime());
        System.out.println("SegmentedWalCrashTest seed " + seed + " (replay: -Dlog.crash.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        Path logDir = dir.resolve("log");
        Path stderr = dir.resolve("child-stderr.txt");
        Files.createDirectories(logDir);
        int kills = 0;
        int tornTails = 0;
        long acks = 0;
        while (kills < KILLS) {
            Path stdout = dir.resolve("child-" + kills + ".out");
            Process child = start(logDir, random.nextLong(), stdout, stderr);
            try (ChildOutput out = new ChildOutput(stdout)) {
                int ackBudget = random.nextInt(10) == 0 ? 0 : random.nextInt(1, 40);
                if (ackBudget == 0) {
                    Thread.sleep(random.nextInt(400));
                } else {
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    int seen = 0;
                    while (seen < ackBudget && child.isAlive()) {
                        assertThat(System.nanoTime()).as("child acknowledges within 30 s").isLessThan(deadline);
                        List<String> lines = out.poll();
                        for (String line : lines) {
                            seen += record(line) ? 1 : 0;
                        }
                        if (lines.isEmpty()) {
                            Thread.sleep(1);
                        }
                    }
                    Thread.sleep(random.nextInt(3));
                }
                child.destroyForcibly();
                child.waitFor();
                // Acknowledgements printed before the kill count too.
                for (String line : out.poll()) {
                    acks += record(line) ? 1 : 0;
                }
            }
            assertThat(child.exitValue()).as("child died by SIGKILL, not by an error: see " + stderr)
                    .isEqualTo(137);
            kills++;
            if (tailIsTorn(logDir)) {
                tornTails++;
            }
            verifyAndAdopt(logDir, "after kill " + kills + " (seed " + seed + ")");
            Files.delete(stdout);
        }
        assertThat(ackedTerms).isNotEmpty();
        System.out.println("SegmentedWalCrashTest: " + kills + " kills, " + tornTails + " left a torn last write, "
                + acks + " acks read after the kill");
    }

    private Process start(Path logDir, long childSeed, Path stdout, Path stderr) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m",
                "-Xshare:auto", "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                logDir.toString(), Long.toString(childSeed)));
        return new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile())).start();
    }

    /**
     * The child's stdout, redirected to a file so that nothing it printed before SIGKILL is lost
     * (a pipe's unread bytes are discarded when the process is destroyed).
     */
    private static final class ChildOutput implements AutoCloseable {
        private final FileChannel channel;
        private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        private final StringBuilder partial = new StringBuilder();

        ChildOutput(Path file) throws IOException {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        }

        /** Complete lines written since the last call. */
        List<String> poll() throws IOException {
            List<String> lines = new ArrayList<>();
            while (channel.read(buf) > 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    char c = (char) buf.get();
                    if (c == '\n') {
                        lines.add(partial.toString());
                        partial.setLength(0);
                    } else {
                        partial.append(c);
                    }
                }
                buf.clear();
            }
            return lines;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** Whether the newest non-empty segment ends in a torn write (a kill in the middle of write()). */
    private static boolean tailIsTorn(Path logDir) throws IOException {
        List<Path> segments = SegmentedWalCorruptionTest.segments(logDir);
        for (int i = segments.size() - 1; i >= 0; i--) {
            Path p = segments.get(i);
            SegmentScanner.Result r = SegmentScanner.scan(p, ByteBuffer.wrap(Files.readAllBytes(p)), true);
            if (!r.records().isEmpty() || r.torn()) {
                return r.torn();
            }
        }
        return false;
    }

    /** Applies one output line of the child; true if it was an acknowledgement. */
    private boolean record(String line) {
        String[] f = line.split(" ");
        if (!f[0].equals("ACK")) {
            return false;
        }
        long last = Long.parseLong(f[1]);
        long term = Long.parseLong(f[2]);
        long first = Long.parseLong(f[3]);
        long commit = Long.parseLong(f[4]);
        assertThat(first).as("an acknowledged committed entry is never overwritten").isGreaterThan(ackedCommit);
        ackedTerms.tailMap(first, true).clear();
        for (long i = first; i <= last; i++) {
            ackedTerms.put(i, term);
        }
        ackedHardStateTerm = term;
        ackedCommit = commit;
        return true;
    }

    private void verifyAndAdopt(Path logDir, String where) throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(logDir, CrashChild.OPTIONS)) {
            long first = wal.firstIndex();
            long last = wal.lastIndex();
            HardState hs = wal.initialState().hardState();
            assertThat(hs.term()).as("hard state term " + where).isGreaterThanOrEqualTo(ackedHardStateTerm);
            assertThat(hs.commit()).as("commit " + where).isGreaterThanOrEqualTo(ackedCommit);
            assertThat(hs.commit()).as("commit within the log " + where).isLessThanOrEqualTo(last);
            long snapIndex = wal.snapshot().metadata().index();
            assertThat(first - 1).as("compacted only below the snapshot " + where).isLessThanOrEqualTo(snapIndex);
            // The log holds the acknowledged state, possibly followed by the one batch whose persist
            // returned but whose ACK was not printed. Such a batch may have overwritten the
            // uncommitted tail, always with a new term (and hard state term).
            long divergence = Long.MAX_VALUE;
            for (var e : ackedTerms.tailMap(first, true).entrySet()) {
                long index = e.getKey();
                if (index > last || wal.term(index) != e.getValue()) {
                    divergence = index;
                    break;
                }
            }
            if (divergence != Long.MAX_VALUE) {
                assertThat(divergence).as("acknowledged committed entry " + divergence + " lost " + where)
                        .isGreaterThan(ackedCommit);
                assertThat(hs.term()).as("entry " + divergence + " differs only if a newer term overwrote it " + where)
                        .isGreaterThan(ackedHardStateTerm);
                assertThat(last).as("the overwriting batch starts at " + divergence + " " + where)
                        .isGreaterThanOrEqualTo(divergence);
                for (long i = divergence; i <= last; i++) {
                    assertThat(wal.term(i)).as("term of overwritten entry " + i + " " + where).isEqualTo(hs.term());
                }
            }
            List<Entry> entries = wal.entries(first, last + 1, Long.MAX_VALUE);
            assertThat(entries).hasSize((int) (last - first + 1));
            long prevTerm = wal.term(first - 1);
            for (Entry e : entries) {
                assertThat(e).as("entry content " + where).isEqualTo(TestEntries.entry(e.index(), e.term()));
                assertThat(e.term()).as("term of " + e.index()).isEqualTo(wal.term(e.index()))
                        .isGreaterThanOrEqualTo(prevTerm);
                prevTerm = e.term();
            }
            // What survived is now the base the next child builds on.
            ackedTerms.tailMap(first, true).clear();
            for (Entry e : entries) {
                ackedTerms.put(e.index(), e.term());
            }
            ackedHardStateTerm = hs.term();
            ackedCommit = hs.commit();
        }
        assertThat(Files.exists(logDir.resolve("LOCK"))).isTrue();
    }
}
