using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Bytes and text that real clients send by mistake or on purpose, over real gRPC, as raw bytes
/// where a generated client could not produce them: each gets its exact status (or, on the adapter
/// stream, its own REJECTED ack), never UNKNOWN or INTERNAL, and the service serves normally after it.
/// </summary>
[Collection(SiloCollection.Name)]
public sealed class HostileInputTests(SiloFixture silo)
{
    private const string ChannelService = "contactgrains.v1.ChannelService";
    private const string AgentService = "contactgrains.v1.AgentService";
    private const string SupervisorService = "contactgrains.v1.SupervisorService";
    private const string ChannelMappingTrailer = "grpc-retry-pushback-ms";
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    /// <summary>A lone high surrogate as a JavaScript encoder writes it (CESU-8), between valid text.</summary>
    private static readonly byte[] LoneSurrogate = [(byte)'o', (byte)'k', 0xED, 0xA0, 0xBD, (byte)'!'];

    public static TheoryData<string, byte[]> InvalidUtf8Variants => new()
    {
        { "lone high surrogate", LoneSurrogate },
        { "lone low surrogate", [(byte)'o', (byte)'k', 0xED, 0xB8, 0x80] },
        { "emoji cut after 3 of its 4 bytes", [(byte)'o', (byte)'k', 0xF0, 0x9F, 0x98] },
        { "overlong slash", [(byte)'o', (byte)'k', 0xC0, 0xAF] },
        { "stray continuation byte", [(byte)'o', (byte)'k', 0x80] },
        { "0xFF byte (Latin-1 ÿ sent raw)", [(byte)'o', (byte)'k', 0xFF] },
        { "Latin-1 é sent raw", [(byte)'c', (byte)'a', (byte)'f', 0xE9] },
        { "code point above U+10FFFF", [(byte)'o', (byte)'k', 0xF4, 0x90, 0x80, 0x80] },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8Variants))]
    public async Task Invalid_utf8_in_a_unary_message_text_is_invalid_argument_naming_the_field(string variant, byte[] bad)
    {
        var request = WithBadString(ValidSendMessage(), bad, SendMessageRequest.MessageFieldNumber, InboundMessage.TextFieldNumber);

        var error = await CallChannelAsync("SendMessage", request);

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{variant}: {error.Status}");
        Assert.StartsWith("Field 'message.text' is not valid UTF-8 (bad byte at offset ", error.Status.Detail, StringComparison.Ordinal);
        await AssertServesNormallyAsync();
    }

    public static TheoryData<string, int[], string> ChannelStringFields => new()
    {
        { "SendMessage", [1, 1], "message.message_id" },
        { "SendMessage", [1, 2, 1], "message.conversation.conversation_id" },
        { "SendMessage", [1, 2, 2], "message.conversation.external_thread_id" },
        { "SendMessage", [1, 3, 1], "message.customer.external_customer_id" },
        { "SendMessage", [1, 3, 2], "message.customer.display_name" },
        { "SendMessage", [1, 3, 3], "message.customer.language" },
        { "StartConversation", [1], "external_thread_id" },
        { "StartConversation", [2, 2], "customer.display_name" },
        { "GetTranscript", [1, 1], "conversation.conversation_id" },
        { "CloseConversation", [2], "reason" },
        { "CloseConversation", [1, 2], "conversation.external_thread_id" },
        { "GetConversation", [1, 1], "conversation.conversation_id" },
    };

    [Theory]
    [MemberData(nameof(ChannelStringFields))]
    public async Task Invalid_utf8_in_any_channel_string_field_is_invalid_argument_naming_it(string method, int[] path, string field)
    {
        var error = await CallChannelAsync(method, WithBadString([], LoneSurrogate, path));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(
            $"Field '{field}' is not valid UTF-8 (bad byte at offset 2): protobuf strings must be UTF-8; a lone UTF-16 surrogate (half an emoji) cannot be encoded. Replace it, e.g. with U+FFFD.",
            error.Status.Detail);
        await AssertServesNormallyAsync();
    }

    public static TheoryData<string, int[], string> AgentStringFields => new()
    {
        { "SendMessage", [1], "conversation_id" },
        { "SendMessage", [3], "text" },
        { "AcceptOffer", [1], "offer_id" },
        { "DeclineOffer", [1], "offer_id" },
        { "Transfer", [4], "note" },
        { "Resolve", [2], "wrap_up_code" },
        { "HandBackToBot", [2], "note" },
        { "GetTranscript", [1], "conversation_id" },
        { "GetQueueStats", [1, 1], "queue.skill" },
    };

    [Theory]
    [MemberData(nameof(AgentStringFields))]
    public async Task Invalid_utf8_in_any_agent_string_field_is_invalid_argument_naming_it(string method, int[] path, string field)
    {
        var error = await CallAgentAsync(method, WithBadString([], LoneSurrogate, path));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith($"Field '{field}' is not valid UTF-8", error.Status.Detail, StringComparison.Ordinal);
        await AssertServesNormallyAsync();
    }

    public static TheoryData<string, int[], string> SupervisorStringFields => new()
    {
        { "GetQueueHistory", [1], "queue" },
        { "GetConversation", [1], "conversation_id" },
        { "TakeOver", [2], "reason" },
        { "SendToQueue", [2, 1], "queue.skill" },
        { "SetAutomationLevel", [1], "intent" },
        { "GetIntentHistory", [1], "intent" },
        { "RecordReview", [3], "note" },
    };

    [Theory]
    [MemberData(nameof(SupervisorStringFields))]
    public async Task Invalid_utf8_in_any_supervisor_string_field_is_invalid_argument_naming_it(string method, int[] path, string field)
    {
        Metadata supervisor = [new(AgentClient.AuthorizationHeader, "Bearer " + DevelopmentCredentials.AgentToken("hostile-supervisor", AccessTokens.SupervisorRole))];
        var error = await CallAsync(SupervisorService, method, WithBadString([], LoneSurrogate, path), supervisor);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith($"Field '{field}' is not valid UTF-8", error.Status.Detail, StringComparison.Ordinal);
        await AssertServesNormallyAsync();
    }

    [Fact]
    public async Task Invalid_utf8_in_an_agent_profile_refuses_the_connect_stream_with_invalid_argument()
    {
        var request = WithBadString([], LoneSurrogate, ConnectRequest.ProfileFieldNumber, AgentProfile.DisplayNameFieldNumber);
        using var call = silo.Channel.CreateCallInvoker().AsyncServerStreamingCall(
            new Method<byte[], byte[]>(MethodType.ServerStreaming, AgentService, "Connect", Bytes, Bytes), null,
            new CallOptions(AgentHeaders("hostile-agent")), request);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("Field 'profile.display_name' is not valid UTF-8", error.Status.Detail, StringComparison.Ordinal);
        await AssertServesNormallyAsync();
    }

    public static TheoryData<string, byte[]> Undecodable => new()
    {
        { "a message cut in the middle of a field", ValidSendMessage()[..^3] },
        { "a length prefix running past the end", [0x0A, 0x7F, 0x0A, 0x01] },
        { "wire type 7 (does not exist)", [0x0F, 0x01] },
        { "field number 0", [0x02, 0x00] },
        { "random bytes", [0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF, 0xFF] },
        { "a varint longer than ten bytes", [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
    };

    [Theory]
    [MemberData(nameof(Undecodable))]
    public async Task Undecodable_bytes_are_invalid_argument(string what, byte[] request)
    {
        var error = await CallChannelAsync("SendMessage", request);

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.Status}");
        Assert.Equal("The request is not a well-formed contactgrains.v1.SendMessageRequest message (undecodable protobuf bytes).", error.Status.Detail);
        await AssertServesNormallyAsync();
    }

    public static TheoryData<string, string, string> InvisibleTexts => new()
    {
        { "NUL only", "\u0000", "text is empty" },
        { "bell and escape", "\u0007\u001B", "text is empty" },
        { "an escape sequence only", "\u001B[2J\u001B[H", "text is empty" },
        { "zero-width spaces only", "\u200B\u200B", "text is empty" },
        { "a zero-width joiner only", "\u200D", "text has no visible character" },
        { "spaces and line breaks", " \r\n\t ", "text is empty" },
        { "no-break and ideographic spaces", "\u00A0\u3000", "text is empty" },
        { "Hangul fillers", "\u3164\u3164\u3164", "text has no visible character" },
        { "a right-to-left override only", "\u202E", "text is empty" },
    };

    [Theory]
    [MemberData(nameof(InvisibleTexts))]
    public async Task Text_without_a_visible_character_is_refused(string what, string text, string detail)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.SendMessageAsync(new SendMessageRequest { Message = NewThreadMessage(text) }).ResponseAsync);

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.Status}");
        Assert.StartsWith(detail, error.Status.Detail, StringComparison.Ordinal);
        await AssertServesNormallyAsync();
    }

    public static TheoryData<string, string, string> StoredCleaned => new()
    {
        { "colour codes", "\u001B[1;31mwhere is my refund\u001B[0m", "where is my refund" },
        { "a window-title escape", "\u001B]0;you are hacked\u0007where is my refund", "where is my refund" },
        { "decomposed accents", "ou est mon colis ? ca\u0300 fait 3 jours, re\u0301ponse svp", "ou est mon colis ? cà fait 3 jours, réponse svp" },
        { "a carriage return that would overwrite the line", "refund please\rADMIN OVERRIDE", "refund please\nADMIN OVERRIDE" },
        { "a zero-width space inside a word", "re\u200Bfund", "refund" },
    };

    [Theory]
    [MemberData(nameof(StoredCleaned))]
    public async Task Text_is_stored_and_relayed_cleaned(string what, string text, string stored)
    {
        var response = await Client.SendMessageAsync(new SendMessageRequest { Message = NewThreadMessage(text) });

        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        var customerEntry = response.Entries.Single(e => e.Message?.Sender == SenderKind.Customer);
        Assert.True(stored == customerEntry.Message.Text, $"{what}: stored '{customerEntry.Message.Text}'");
    }

    public static TheoryData<string, string> BadIds => new()
    {
        { "message_id", "message_id contains the control or formatting character U+001B; ids are printable text." },
        { "thread", "conversation.external_thread_id contains the control or formatting character U+000A; ids are printable text." },
        { "customer", "customer.external_customer_id contains the control or formatting character U+200B; ids are printable text." },
    };

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task Ids_with_control_characters_are_refused(string which, string detail)
    {
        var message = NewThreadMessage("hello");
        switch (which)
        {
            case "message_id": message.MessageId = "id-\u001B[31m"; break;
            case "thread": message.Conversation.ExternalThreadId = "thread\nforged log line"; break;
            case "customer": message.Customer.ExternalCustomerId = "cust\u200Bomer"; break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.SendMessageAsync(new SendMessageRequest { Message = message }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
    }

    [Fact]
    public async Task A_request_over_the_api_limit_is_resource_exhausted_without_echoing_it()
    {
        var message = NewThreadMessage(new string('x', 40_000));

        var error = await CallChannelAsync("SendMessage", new SendMessageRequest { Message = message }.ToByteArray());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.StartsWith("The SendMessageRequest is 40,", error.Status.Detail, StringComparison.Ordinal);
        Assert.EndsWith("bytes; the limit is 32,768 (a message's text is at most 4,096 characters).", error.Status.Detail, StringComparison.Ordinal);
        await AssertServesNormallyAsync();
    }

    [Fact]
    public async Task A_request_over_the_transport_limit_is_resource_exhausted()
    {
        var error = await CallChannelAsync("SendMessage", new SendMessageRequest { Message = NewThreadMessage(new string('x', 2_000_000)) }.ToByteArray());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.True(error.Status.Detail.Length < 200, error.Status.Detail);
        await AssertServesNormallyAsync();
    }

    [Fact]
    public async Task An_oversized_header_value_is_not_echoed()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => silo.Client(new string('X', 8000)).GetConversationAsync(
            new GetConversationRequest { Conversation = Addresses.Conversation("c") }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.DoesNotContain("XXXX", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_invalid_language_is_not_echoed_in_full()
    {
        var message = NewThreadMessage("hi");
        message.Customer.Language = new string('z', 3000);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.SendMessageAsync(new SendMessageRequest { Message = message }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.True(error.Status.Detail.Length <= 500, $"{error.Status.Detail.Length} characters");
    }

    // ---- Floods: refused with RESOURCE_EXHAUSTED and a retry hint; nothing stored; retrying after the hint works. ----

    [Fact]
    public async Task A_unary_flood_on_one_conversation_is_refused_after_the_burst_with_a_retry_hint()
    {
        var first = NewThreadMessage("where is my refund?");
        var conversationId = (await Client.SendMessageAsync(new SendMessageRequest { Message = first })).Ack.ConversationId;
        var address = Addresses.Conversation(conversationId);

        // The first message took one of the burst's 20; the flood takes the rest, then is refused.
        var outcomes = new List<RpcException?>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 25; i++)
        {
            try
            {
                await Client.SendMessageAsync(new SendMessageRequest { Message = new InboundMessage { MessageId = $"flood-{i}", Conversation = address, Text = $"hello {i}" } });
                outcomes.Add(null);
            }
            catch (RpcException ex)
            {
                outcomes.Add(ex);
            }
        }

        // One more token a second refills while the flood runs (on a slow machine, that may be one or two).
        var accepted = outcomes.Count(o => o is null);
        Assert.InRange(accepted, 19, 19 + (int)Math.Ceiling(clock.Elapsed.TotalSeconds));
        Assert.All(outcomes.Where(o => o is not null), refused =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, refused!.StatusCode);
            Assert.StartsWith($"Too many messages on conversation {conversationId}: it takes 20 at once, then 60 a minute. Nothing was stored; send it again in ", refused.Status.Detail, StringComparison.Ordinal);
            var pushback = int.Parse(refused.Trailers.GetValue(ChannelMappingTrailer)!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(pushback, 1, 1000);
        });

        // Nothing refused was stored: the timeline holds the first message and the accepted ones.
        var transcript = await Client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = address });
        var stored = transcript.Entries.Where(e => e.Message?.Sender == SenderKind.Customer).Select(e => e.Message.AdapterMessageId).ToList();
        Assert.Equal([first.MessageId, .. Enumerable.Range(0, 25).Where(i => outcomes[i] is null).Select(i => $"flood-{i}")], stored);

        // After the hint, the same message goes through, once.
        var hint = int.Parse(outcomes[^1]!.Trailers.GetValue(ChannelMappingTrailer)!, System.Globalization.CultureInfo.InvariantCulture);
        await Task.Delay(hint);
        var retried = await Client.SendMessageAsync(new SendMessageRequest { Message = new InboundMessage { MessageId = "flood-24", Conversation = address, Text = "hello 24" } });
        Assert.Equal(AckStatus.Accepted, retried.Ack.Status);
    }

    [Fact]
    public async Task A_stream_flood_on_one_conversation_is_refused_frame_by_frame_and_the_stream_serves_the_others()
    {
        var thread = "flood-" + Guid.NewGuid().ToString("N");
        var other = "calm-" + Guid.NewGuid().ToString("N");
        await using var stream = new RawBytesStream(silo.Channel, ChannelHeaders("webchat"));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 0; i < 30; i++)
        {
            await stream.SendAsync(Frame($"{thread}-{i}", thread, $"message {i}"));
        }

        await stream.SendAsync(Frame("calm", other, "where is my refund?"));

        var acks = new List<Ack>();
        for (var i = 0; i < 30; i++)
        {
            acks.Add(await stream.FirstAckAsync(a => a.CorrelationId == $"{thread}-{i}"));
        }

        Assert.InRange(acks.Count(a => a.Status == AckStatus.Accepted), 20, 20 + (int)Math.Ceiling(clock.Elapsed.TotalSeconds));
        Assert.All(acks.Where(a => a.Status != AckStatus.Accepted), refused =>
        {
            Assert.Equal(AckStatus.Rejected, refused.Status);
            Assert.Equal((int)StatusCode.ResourceExhausted, refused.Code);
            Assert.InRange(refused.RetryAfterMs, 1u, 3000u);
        });
        Assert.Equal(AckStatus.Accepted, (await stream.FirstAckAsync(a => a.CorrelationId == "calm")).Status);
    }

    [Fact]
    public async Task A_channel_over_its_per_silo_limit_is_refused_with_a_retry_hint()
    {
        var client = silo.Client(SiloFixture.RateLimitedChannel);
        // All at once, each on a new conversation: only the channel's limit applies.
        var calls = Enumerable.Range(0, 4 * SiloFixture.RateLimitedChannelPerSecond)
            .Select(_ => client.SendMessageAsync(new SendMessageRequest { Message = NewThreadMessage("hello") }).ResponseAsync)
            .ToList();
        var refused = new List<RpcException>();
        foreach (var call in calls)
        {
            try
            {
                await call;
            }
            catch (RpcException ex)
            {
                refused.Add(ex);
            }
        }

        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, r.StatusCode);
            Assert.StartsWith($"Too many messages on channel '{SiloFixture.RateLimitedChannel}': this silo takes {SiloFixture.RateLimitedChannelPerSecond} a second from it.", r.Status.Detail, StringComparison.Ordinal);
            Assert.NotNull(r.Trailers.GetValue(ChannelMappingTrailer));
        });

        // Other channels are not affected.
        await AssertServesNormallyAsync();
    }

    // ---- The adapter stream: one bad frame, one refusal, and the stream goes on. ----

    public static TheoryData<string, string, StatusCode, string> BadFrames => new()
    {
        // what, expected correlation id, code, detail start
        { "invalid UTF-8 in the text", "bad-text", StatusCode.InvalidArgument, "Field 'message.text' is not valid UTF-8" },
        { "invalid UTF-8 in the customer's name", "bad-name", StatusCode.InvalidArgument, "Field 'message.customer.display_name' is not valid UTF-8" },
        { "invalid UTF-8 in the message id itself", "", StatusCode.InvalidArgument, "Field 'message.message_id' is not valid UTF-8" },
        { "invalid UTF-8 in a resume request", "bad-resume", StatusCode.InvalidArgument, "Field 'resume.conversation.external_thread_id' is not valid UTF-8" },
        { "a truncated frame", "", StatusCode.InvalidArgument, "The request is not a well-formed contactgrains.v1.ChannelUpstream message" },
        { "a frame over the API limit", "too-big", StatusCode.ResourceExhausted, "The ChannelUpstream is 50," },
        { "an empty frame", "", StatusCode.InvalidArgument, "Empty frame: set either message or resume." },
        { "a text of control characters", "controls", StatusCode.InvalidArgument, "text is empty" },
        { "a text of zero-width characters", "zero-width", StatusCode.InvalidArgument, "text is empty" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_bad_stream_frame_gets_its_own_refusal_and_the_stream_goes_on(string what, string correlationId, StatusCode code, string detail)
    {
        var thread = "hostile-stream-" + Guid.NewGuid().ToString("N");
        var frame = what switch
        {
            "invalid UTF-8 in the text" => WithBadString(Frame("bad-text", thread, "hi"), LoneSurrogate, 1, 4),
            "invalid UTF-8 in the customer's name" => WithBadString(Frame("bad-name", thread, "hi"), LoneSurrogate, 1, 3, 2),
            "invalid UTF-8 in the message id itself" => WithBadString(Frame("", thread, "hi"), LoneSurrogate, 1, 1),
            "invalid UTF-8 in a resume request" => WithBadString(
                new ChannelUpstream { Resume = new ResumeRequest { RequestId = "bad-resume" } }.ToByteArray(), LoneSurrogate, 2, 1, 2),
            "a truncated frame" => Frame("cut", thread, "hello there")[..^4],
            "a frame over the API limit" => Frame("too-big", thread, new string('x', 50_000)),
            "an empty frame" => new ChannelUpstream().ToByteArray(),
            "a text of control characters" => Frame("controls", thread, "\u0000\u0007\u001B[0m"),
            "a text of zero-width characters" => Frame("zero-width", thread, "\u200B\uFEFF"),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        await using var stream = new RawBytesStream(silo.Channel, ChannelHeaders("webchat"));

        await stream.SendAsync(frame);
        await stream.SendAsync(Frame("after-" + thread, thread, "where is my refund?"));

        var refusal = await stream.FirstAckAsync(a => a.Status == AckStatus.Rejected);
        Assert.True(code == (StatusCode)refusal.Code, $"{what}: {refusal}");
        Assert.Equal(correlationId, refusal.CorrelationId);
        Assert.StartsWith(detail, refusal.Detail, StringComparison.Ordinal);
        var accepted = await stream.FirstAckAsync(a => a.CorrelationId == "after-" + thread);
        Assert.Equal(AckStatus.Accepted, accepted.Status);
        Assert.Equal(StatusCode.OK, (await stream.CompleteAsync()).StatusCode);
    }

    [Fact]
    public async Task A_frame_over_the_transport_limit_ends_the_stream_with_resource_exhausted_and_the_next_stream_works()
    {
        var thread = "hostile-huge-" + Guid.NewGuid().ToString("N");
        await using (var stream = new RawBytesStream(silo.Channel, ChannelHeaders("webchat")))
        {
            try
            {
                await stream.SendAsync(Frame("huge", thread, new string('x', 1_100_000)));
            }
            catch (RpcException)
            {
                // The server may end the call while the frame is still being written.
            }

            var status = await stream.WaitForEndAsync();
            Assert.Equal(StatusCode.ResourceExhausted, status.StatusCode);
        }

        await using var next = new RawBytesStream(silo.Channel, ChannelHeaders("webchat"));
        await next.SendAsync(Frame("next", thread, "hello"));
        Assert.Equal(AckStatus.Accepted, (await next.FirstAckAsync(a => a.CorrelationId == "next")).Status);
    }

    // ---- A stream that never reads: closed once a write has waited the stalled-stream timeout. ----

    [Fact]
    public async Task An_adapter_stream_that_never_reads_is_closed_and_the_service_goes_on()
    {
        var run = Guid.NewGuid().ToString("N");
        await using var stream = new RawBytesStream(silo.Channel, ChannelHeaders("webchat"), read: false);

        // About 300 KB of acks and entries come back: more than HTTP/2 lets the server send unread.
        var text = new string('a', 1000) + " where is my refund?";
        for (var conversation = 0; conversation < 20; conversation++)
        {
            for (var turn = 0; turn < 10; turn++)
            {
                await stream.SendAsync(Frame($"stall-{run}-{conversation}-{turn}", $"stall-{run}-{conversation}", text));
            }
        }

        // Nothing read for longer than the timeout; then the adapter wakes up and reads what there is.
        await Task.Delay(SiloFixture.StalledStreamTimeout * 2);
        var status = await stream.WaitForEndAsync();

        Assert.NotEqual(StatusCode.OK, status.StatusCode);
        Assert.True(stream.Received.Count < 200 * 3, $"the stream ended after {stream.Received.Count} frames");
        await AssertServesNormallyAsync();
    }

    // ---- helpers ----

    private SiloChannelClient Client => silo.Client();

    private static Metadata ChannelHeaders(string channel) => [new(ChannelKeys.Header, DevelopmentCredentials.ChannelKey(channel))];

    private static Metadata AgentHeaders(string agentId) => [new(AgentClient.AuthorizationHeader, "Bearer " + DevelopmentCredentials.AgentToken(agentId))];

    private Task<RpcException> CallChannelAsync(string method, byte[] request) => CallAsync(ChannelService, method, request, ChannelHeaders("webchat"));

    private Task<RpcException> CallAgentAsync(string method, byte[] request) => CallAsync(AgentService, method, request, AgentHeaders("hostile-agent"));

    private async Task<RpcException> CallAsync(string service, string method, byte[] request, Metadata headers)
    {
        var invoker = silo.Channel.CreateCallInvoker();
        var call = invoker.AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, service, method, Bytes, Bytes), null, new CallOptions(headers), request);
        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
    }

    /// <summary>A fresh conversation takes a message and the bot answers: nothing above broke the service.</summary>
    private async Task AssertServesNormallyAsync()
    {
        var response = await Client.SendMessageAsync(new SendMessageRequest { Message = NewThreadMessage("where is my refund?") });

        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        Assert.Contains(response.Entries, e => e.Message?.Sender == SenderKind.Bot);
    }

    private static InboundMessage NewThreadMessage(string text) => new()
    {
        MessageId = "m-" + Guid.NewGuid().ToString("N"),
        Conversation = Addresses.Thread("hostile-" + Guid.NewGuid().ToString("N")),
        Customer = new CustomerIdentity { ExternalCustomerId = "hostile-customer", Language = "en" },
        Text = text,
    };

    private static byte[] ValidSendMessage() => new SendMessageRequest { Message = NewThreadMessage("hello") }.ToByteArray();

    private static byte[] Frame(string messageId, string thread, string text) => new ChannelUpstream
    {
        Message = new InboundMessage
        {
            MessageId = messageId,
            Conversation = Addresses.Thread(thread),
            Customer = new CustomerIdentity { ExternalCustomerId = "hostile-customer", Language = "en" },
            Text = text,
        },
    }.ToByteArray();

    /// <summary>
    /// <paramref name="valid"/> followed by one more occurrence of the field at <paramref name="path"/>
    /// (field numbers, outermost first) holding <paramref name="bad"/>: protobuf merges it into the
    /// message, so the decoder meets it where a real client would have put it.
    /// </summary>
    private static byte[] WithBadString(byte[] valid, byte[] bad, params int[] path)
    {
        var value = bad;
        for (var i = path.Length - 1; i >= 0; i--)
        {
            using var buffer = new MemoryStream();
            var output = new CodedOutputStream(buffer);
            output.WriteTag(path[i], WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(value));
            output.Flush();
            value = buffer.ToArray();
        }

        return [.. valid, .. value];
    }
}
