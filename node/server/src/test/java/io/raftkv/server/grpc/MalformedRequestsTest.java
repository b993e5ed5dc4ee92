package io.raftkv.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.raftkv.server.api.etcd.KVGrpc;
import io.raftkv.server.api.etcd.PutRequest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

class MalformedRequestsTest {

    @SuppressWarnings("unchecked")
    private static MethodDescriptor.Marshaller<PutRequest> guardedPutMarshaller() {
        ServerServiceDefinition guarded = MalformedRequests.guard(new KVGrpc.KVImplBase() { }.bindService());
        return (MethodDescriptor.Marshaller<PutRequest>) guarded.getMethod("etcdserverpb.KV/Put")
                .getMethodDescriptor().getRequestMarshaller();
    }

    @Test
    void garbageBodyParsesToAMarkedMessageCarryingTheParserReason() {
        PutRequest parsed = guardedPutMarshaller().parse(new ByteArrayInputStream(HexFormat.of().parseHex("0f")));
        assertThat(MalformedRequests.malformedReason(parsed)).isNotBlank();
        assertThat(parsed.getKey()).isEmpty();
    }

    @Test
    void wellFormedBodyParsesToTheRequestUnmarked() {
        PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build();
        PutRequest parsed = guardedPutMarshaller().parse(new ByteArrayInputStream(put.toByteArray()));
        assertThat(parsed).isEqualTo(put);
        assertThat(MalformedRequests.malformedReason(parsed)).isNull();
    }

    @Test
    void aClientCannotForgeTheMarkerWithoutTheProcessNonce() {
        UnknownFieldSet forged = UnknownFieldSet.newBuilder()
                .addField(536_870_911, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFromUtf8("forged"))
                        .addFixed64(42L)
                        .build())
                .build();
        PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setUnknownFields(forged).build();
        PutRequest parsed = guardedPutMarshaller().parse(new ByteArrayInputStream(put.toByteArray()));
        assertThat(MalformedRequests.malformedReason(parsed)).isNull();
    }
}
