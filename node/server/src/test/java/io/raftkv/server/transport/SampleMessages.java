package io.raftkv.server.transport;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/** One message of every kind, with every field set to a value distinct from its default. */
final class SampleMessages {
    private SampleMessages() {
    }

    static List<Message> everyKind(long from, long to) {
        List<Entry> entries = List.of(
                Entry.normal(7, 41, bytes("put a=1")),
                new Entry(7, 42, EntryType.CONF_CHANGE, bytes("add learner 4")),
                Entry.normal(7, 43, new byte[0]));
        ConfState joint = new ConfState(Set.of(1L, 2L, 4L), Set.of(5L), Set.of(1L, 2L, 3L), Set.of(3L), true);
        return List.of(
                new Message.Propose(from, to, 0, entries),
                new Message.AppendEntries(from, to, 7, 40, 6, entries, 39),
                new Message.AppendResponse(from, to, 7, 40, true, 35, 5),
                new Message.Heartbeat(from, to, 7, 39, bytes("read-1")),
                new Message.HeartbeatResponse(from, to, 7, bytes("read-1")),
                new Message.RequestVote(from, to, 8, 43, 7, true, true),
                new Message.VoteResponse(from, to, 8, true, true),
                new Message.InstallSnapshot(from, to, 7,
                        new Snapshot(new SnapshotMetadata(40, 6, joint), bytes("state machine image"))),
                new Message.TimeoutNow(from, to, 7),
                new Message.TransferLeader(from, to, 7, 3),
                new Message.ReadIndexRequest(from, to, 0, bytes("read-2")),
                new Message.ReadIndexResponse(from, to, 7, 43, bytes("read-2")));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
