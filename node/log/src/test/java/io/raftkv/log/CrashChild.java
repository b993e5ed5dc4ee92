package io.raftkv.log;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.HardState;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The process {@link SegmentedWalCrashTest} kills: appends batches through the log forever,
 * sometimes overwriting its own uncommitted tail with a new term, sometimes taking a snapshot
 * and compacting; occasionally a batch is large (up to ~1 MiB) so that a kill can land in the
 * middle of its write. After each persist returns it prints
 * {@code ACK <lastIndex> <term> <firstIndexOfBatch> <commit>} with one write() to stdout (atomic
 * on a pipe), so an acknowledgement is never printed before its data is durable.
 */
public final class CrashChild {
    static final SegmentedWal.Options OPTIONS = new SegmentedWal.Options(64 * 1024, 256);

    private CrashChild() {
    }

    /** Arguments: log directory, random seed. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        SplittableRandom random = new SplittableRandom(Long.parseLong(args[1]));
        FileOutputStream out = new FileOutputStream(FileDescriptor.out);
        try (SegmentedWal wal = SegmentedWal.open(dir, OPTIONS)) {
            HardState hs = wal.initialState().hardState();
            long term = hs.term() + 1;
            long commit = hs.commit();
            long last = wal.lastIndex();
            print(out, "START " + last + " " + term);
            while (true) {
                long start = last + 1;
                if (last > commit && random.nextInt(8) == 0) {
                    start = last + 1 - random.nextLong(1, last - commit + 1);
                    term++;
                }
                // Now and then a batch of up to ~1 MiB, so that a kill can land inside its write().
                int count = 1 + random.nextInt(random.nextInt(12) == 0 ? 20_000 : random.nextInt(10) == 0 ? 300 : 20);
                long newCommit = Math.max(commit, Math.min(start - 1, commit + random.nextInt(40)));
                hs = new HardState(term, 1, newCommit);
                wal.persist(hs, TestEntries.range(start, start + count - 1, term), null);
                last = start + count - 1;
                commit = newCommit;
                print(out, "ACK " + last + " " + term + " " + start + " " + commit);
                if (random.nextInt(15) == 0 && commit >= wal.firstIndex()) {
                    wal.createSnapshot(commit, ConfState.ofVoters(Set.of(1L, 2L, 3L)),
                            TestEntries.data(commit, term, 16));
                    wal.compact(Math.max(wal.firstIndex(), commit - random.nextInt(100)));
                }
            }
        }
    }

    private static void print(FileOutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    }
}
