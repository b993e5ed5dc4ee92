package io.raftkv.server.transport;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import io.raftkv.server.api.peer.RaftMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RaftMessageCodecTest {

    static List<Message> everyKind() {
        return SampleMessages.everyKind(0x1111_2222_3333_4444L, 0xffff_ffff_ffff_fff0L);
    }

    @ParameterizedTest
    @MethodSource("everyKind")
    void everyKindRoundTripsFieldForField(Message message) throws Exception {
        byte[] wire = RaftMessageCodec.toProto(message).toByteArray();

        Message decoded = RaftMessageCodec.fromProto(RaftMessage.parseFrom(wire));

        assertThat(decoded).isExactlyInstanceOf(message.getClass());
        assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
    }

    @Test
    void samplesCoverEveryPermittedMessageKind() {
        Set<Class<?>> sampled = everyKind().stream().map(Object::getClass).collect(Collectors.toSet());

        assertThat(sampled).containsExactlyInAnyOrder(Message.class.getPermittedSubclasses());
    }

    @Test
    void jointConfStateInSnapshotRoundTrips() {
        ConfState joint = new ConfState(Set.of(1L, 2L, 4L), Set.of(5L, 6L), Set.of(1L, 2L, 3L), Set.of(3L), true);
        Message m = new Message.InstallSnapshot(1, 2, 9, new Snapshot(new SnapshotMetadata(100, 9, joint), new byte[] {1, 2}));

        var decoded = (Message.InstallSnapshot) RaftMessageCodec.fromProto(RaftMessageCodec.toProto(m));

        assertThat(decoded.snapshot().metadata().confState()).isEqualTo(joint);
        assertThat(decoded.snapshot().metadata().confState().isJoint()).isTrue();
        assertThat(decoded.snapshot().metadata().index()).isEqualTo(100);
        assertThat(decoded.snapshot().metadata().term()).isEqualTo(9);
        assertThat(decoded.snapshot().data()).containsExactly(1, 2);
    }

    @Test
    void nullAndEmptyContextsStayDistinct() {
        var none = (Message.Heartbeat) RaftMessageCodec.fromProto(
                RaftMessageCodec.toProto(new Message.Heartbeat(1, 2, 3, 4, null)));
        var empty = (Message.Heartbeat) RaftMessageCodec.fromProto(
                RaftMessageCodec.toProto(new Message.Heartbeat(1, 2, 3, 4, new byte[0])));
        var noRead = (Message.ReadIndexResponse) RaftMessageCodec.fromProto(
                RaftMessageCodec.toProto(new Message.ReadIndexResponse(1, 2, 3, 4, null)));

        assertThat(none.context()).isNull();
        assertThat(empty.context()).isEmpty();
        assertThat(noRead.context()).isNull();
    }

    @Test
    void decodedMessageOwnsItsArrays() {
        byte[] data = {1, 2, 3};
        Message m = new Message.Propose(1, 2, 0, List.of(Entry.normal(1, 1, data)));

        var decoded = (Message.Propose) RaftMessageCodec.fromProto(RaftMessageCodec.toProto(m));
        data[0] = 9;

        assertThat(decoded.entries().get(0).data()).containsExactly(1, 2, 3);
    }

    @Test
    void messageWithoutKindIsRejected() {
        RaftMessage noKind = RaftMessage.newBuilder().setFrom(1).setTo(2).setTerm(3).build();

        assertThatThrownBy(() -> RaftMessageCodec.fromProto(noKind))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no kind");
    }

    @Test
    void unknownEntryTypeIsRejected() {
        RaftMessage m = RaftMessage.newBuilder().setFrom(1).setTo(2)
                .setPropose(io.raftkv.server.api.peer.Propose.newBuilder()
                        .addEntries(io.raftkv.server.api.peer.Entry.newBuilder().setIndex(5).setTypeValue(7)))
                .build();

        assertThatThrownBy(() -> RaftMessageCodec.fromProto(m))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("entry 5 has unknown type 7");
    }

    @Test
    void sizeEstimateCountsPayloads() {
        byte[] kib = new byte[1024];
        Message append = new Message.AppendEntries(1, 2, 3, 0, 0,
                List.of(Entry.normal(1, 1, kib), Entry.normal(1, 2, kib)), 0);
        Message snapshot = new Message.InstallSnapshot(1, 2, 3,
                new Snapshot(SnapshotMetadata.EMPTY, new byte[1 << 20]));

        assertThat(RaftMessageCodec.estimateSizeBytes(append)).isGreaterThanOrEqualTo(2048);
        assertThat(RaftMessageCodec.estimateSizeBytes(snapshot)).isGreaterThanOrEqualTo(1 << 20);
        assertThat(RaftMessageCodec.estimateSizeBytes(new Message.TimeoutNow(1, 2, 3))).isPositive();
    }
}
