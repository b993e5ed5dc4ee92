package io.raftkv.log;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Entries whose content is a function of (index, term), so any copy can be verified. */
final class TestEntries {
    private TestEntries() {
    }

    static byte[] data(long index, long term, int length) {
        byte[] b = new byte[length];
        SplittableRandom r = new SplittableRandom(index * 1_000_003L + term);
        for (int i = 0; i < length; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    /** Length of the deterministic payload of entry (index, term): 0..63 bytes. */
    static int length(long index, long term) {
        return (int) ((index * 31 + term * 7) % 64);
    }

    static Entry entry(long index, long term) {
        EntryType type = index % 17 == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL;
        return new Entry(term, index, type, data(index, term, length(index, term)));
    }

    static List<Entry> range(long from, long toInclusive, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= toInclusive; i++) {
            out.add(entry(i, term));
        }
        return out;
    }
}
