package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The first state of every member of a new cluster (as etcd does it): the log starts with one
 * committed configuration entry at index 1, term 1, that adds the initial voters. Because the
 * configuration is in the log, members added later learn it by replication like any other entry.
 * Every initial member must persist exactly the same entry.
 */
public final class Bootstrap {
    private Bootstrap() {
    }

    /** The log of a new cluster's member: one configuration entry adding {@code voters}. */
    public static List<Entry> entries(Set<Long> voters) {
        List<ConfChange.Change> changes = new ArrayList<>();
        for (long v : new TreeSet<>(voters)) {
            changes.add(new ConfChange.Change(ConfChange.Type.ADD_VOTER, v));
        }
        byte[] data = new ConfChange(changes, null).encode();
        return List.of(new Entry(1, 1, EntryType.CONF_CHANGE, data));
    }

    /** The hard state to persist with {@link #entries(Set)}: term 1, no vote, index 1 committed. */
    public static HardState hardState() {
        return new HardState(1, RaftNode.NONE, 1);
    }
}
