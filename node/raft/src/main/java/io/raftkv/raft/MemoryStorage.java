package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory {@link Storage}, for tests, the simulator and benchmarks. Also the reference model
 * the durable log is compared against. Not thread-safe: owned by the thread that drives the core.
 *
 * <p>{@code entries.get(0)} is a dummy entry standing for the snapshot (index and term of the
 * last compacted entry), so {@code term(firstIndex() - 1)} is always answerable.
 */
public final class MemoryStorage implements Storage {
    private HardState hardState = HardState.EMPTY;
    private Snapshot snapshot = Snapshot.EMPTY;
    private final ArrayList<Entry> entries = new ArrayList<>();

    /** A storage holding nothing: a node that has never run. */
    public MemoryStorage() {
        entries.add(new Entry(0, 0, EntryType.NORMAL, null));
    }

    /**
     * A storage for an initial member of a new cluster, holding the {@link Bootstrap} entry.
     * Members added later start from an empty {@code new MemoryStorage()}.
     */
    public static MemoryStorage bootstrap(java.util.Set<Long> voters) {
        MemoryStorage s = new MemoryStorage();
        s.append(Bootstrap.entries(voters));
        s.setHardState(Bootstrap.hardState());
        return s;
    }

    /**
     * A storage for a fresh node whose initial configuration is {@code confState}, held only in
     * snapshot metadata at index 0. Members added later can only learn it from a snapshot, so
     * clusters that change membership should start with {@link #bootstrap(java.util.Set)}.
     */
    public static MemoryStorage withConfState(ConfState confState) {
        MemoryStorage s = new MemoryStorage();
        s.snapshot = new Snapshot(new SnapshotMetadata(0, 0, confState), null);
        return s;
    }

    @Override
    public InitialState initialState() {
        return new InitialState(hardState, snapshot.metadata().confState());
    }

    /** Records the hard state (the application does this for every non-null Ready hard state). */
    public void setHardState(HardState hs) {
        this.hardState = hs;
    }

    /** The hard state last recorded. */
    public HardState hardState() {
        return hardState;
    }

    @Override
    public List<Entry> entries(long lo, long hi, long maxSizeBytes) {
        long offset = entries.get(0).index();
        if (lo <= offset) {
            throw new CompactedException(lo, offset + 1);
        }
        if (hi > lastIndex() + 1) {
            throw new UnavailableException(hi, lastIndex());
        }
        List<Entry> out = new ArrayList<>();
        long size = 0;
        for (long i = lo; i < hi; i++) {
            Entry e = entries.get((int) (i - offset));
            size += e.sizeBytes();
            if (!out.isEmpty() && size > maxSizeBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public long term(long index) {
        long offset = entries.get(0).index();
        if (index < offset) {
            throw new CompactedException(index, offset + 1);
        }
        if (index - offset >= entries.size()) {
            throw new UnavailableException(index, lastIndex());
        }
        return entries.get((int) (index - offset)).term();
    }

    @Override
    public long firstIndex() {
        return entries.get(0).index() + 1;
    }

    @Override
    public long lastIndex() {
        return entries.get(0).index() + entries.size() - 1;
    }

    @Override
    public Snapshot snapshot() {
        return snapshot;
    }

    /**
     * Replaces the whole contents with a snapshot received from the leader. A snapshot older than
     * the current one is ignored.
     */
    public void applySnapshot(Snapshot snap) {
        if (snap.metadata().index() <= snapshot.metadata().index() && !snapshot.isEmpty()) {
            return;
        }
        snapshot = snap;
        entries.clear();
        entries.add(new Entry(snap.metadata().term(), snap.metadata().index(), EntryType.NORMAL, null));
    }

    /**
     * Records a snapshot the application took at {@code index} (which must be applied) and
     * returns it. Does not compact the log; call {@link #compact(long)} for that.
     */
    public Snapshot createSnapshot(long index, ConfState cs, byte[] data) {
        if (index <= snapshot.metadata().index()) {
            return snapshot;
        }
        if (index > lastIndex()) {
            throw new IllegalArgumentException("snapshot index " + index + " beyond last index " + lastIndex());
        }
        snapshot = new Snapshot(new SnapshotMetadata(index, term(index), cs), data);
        return snapshot;
    }

    /**
     * Discards entries up to and including {@code compactIndex}, which must be in the log and at
     * or below the snapshot index (the entries above it are needed to rebuild the state).
     */
    public void compact(long compactIndex) {
        long offset = entries.get(0).index();
        if (compactIndex <= offset) {
            return;
        }
        if (compactIndex > lastIndex()) {
            throw new IllegalArgumentException("compact " + compactIndex + " beyond last index " + lastIndex());
        }
        int i = (int) (compactIndex - offset);
        Entry dummy = new Entry(entries.get(i).term(), compactIndex, EntryType.NORMAL, null);
        List<Entry> rest = new ArrayList<>(entries.subList(i + 1, entries.size()));
        entries.clear();
        entries.add(dummy);
        entries.addAll(rest);
    }

    /**
     * Appends entries from a Ready, truncating any conflicting suffix first (the new entries win:
     * the core only asks to persist entries that replace an uncommitted tail).
     */
    public void append(List<Entry> ents) {
        if (ents.isEmpty()) {
            return;
        }
        long first = firstIndex();
        long last = ents.get(ents.size() - 1).index();
        if (last < first) {
            return; // entirely compacted already
        }
        int skip = 0;
        if (first > ents.get(0).index()) {
            skip = (int) (first - ents.get(0).index());
        }
        long offset = ents.get(skip).index() - entries.get(0).index();
        if (offset > entries.size()) {
            throw new IllegalStateException("missing log entry: last " + lastIndex() + ", append at " + ents.get(skip).index());
        }
        while (entries.size() > offset) {
            entries.remove(entries.size() - 1);
        }
        entries.addAll(ents.subList(skip, ents.size()));
    }
}
