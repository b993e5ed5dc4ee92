package io.raftkv.e2e.jepsen;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client for raftkv's own {@code raftkv.v1.Membership/ChangeMembers} (several membership changes
 * applied at once through joint consensus, Raft thesis §4.3), which jetcd does not know. The
 * messages are encoded by hand from the field numbers in {@code node/server/src/main/proto/raftkv/membership.proto},
 * so that e2e needs no generated stubs. Each call opens and closes its own channel.
 */
final class ChangeMembersCall {
    /** MemberChange.Kind values (membership.proto). */
    static final int ADD_VOTER = 0;
    static final int REMOVE = 2;

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> METHOD = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("raftkv.v1.Membership/ChangeMembers")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    /**
     * One MemberChange.
     *
     * @param kind    {@link #ADD_VOTER} or {@link #REMOVE}
     * @param id      the member to remove; 0 for a new member
     * @param name    the new member's name, or null
     * @param peerUrl the new member's peer URL, or null
     */
    record Change(int kind, long id, String name, String peerUrl) {
    }

    private ChangeMembersCall() {
    }

    /** Sends {@code changes} to the member at {@code hostPort}; returns the ids of the added members. Blocks up to {@code timeoutMs}. */
    static List<Long> send(String hostPort, List<Change> changes, long timeoutMs) {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(hostPort).usePlaintext().build();
        try {
            byte[] response = ClientCalls.blockingUnaryCall(channel, METHOD,
                    CallOptions.DEFAULT.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS), encode(changes));
            return addedIds(response);
        } finally {
            channel.shutdownNow();
        }
    }

    /** ChangeMembersRequest { repeated MemberChange changes = 1; }. */
    static byte[] encode(List<Change> changes) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CodedOutputStream request = CodedOutputStream.newInstance(out);
            for (Change c : changes) {
                ByteArrayOutputStream inner = new ByteArrayOutputStream();
                CodedOutputStream change = CodedOutputStream.newInstance(inner);
                change.writeEnum(1, c.kind());
                change.writeUInt64(2, c.id());
                if (c.name() != null) {
                    change.writeString(3, c.name());
                }
                if (c.peerUrl() != null) {
                    change.writeString(4, c.peerUrl());
                }
                change.flush();
                request.writeByteArray(1, inner.toByteArray());
            }
            request.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The ids in ChangeMembersResponse.added (field 2, etcd Member with id = field 1). */
    static List<Long> addedIds(byte[] response) {
        try {
            List<Long> ids = new ArrayList<>();
            CodedInputStream in = CodedInputStream.newInstance(response);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (WireFormat.getTagFieldNumber(tag) == 2) {
                    CodedInputStream member = CodedInputStream.newInstance(in.readByteArray());
                    for (int t = member.readTag(); t != 0; t = member.readTag()) {
                        if (WireFormat.getTagFieldNumber(t) == 1) {
                            ids.add(member.readUInt64());
                        } else {
                            member.skipField(t);
                        }
                    }
                } else {
                    in.skipField(tag);
                }
            }
            return ids;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
