using System.Net;
using System.Net.Sockets;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests.ClientLibrary;

/// <summary>ChannelConnection on trouble, against real servers: a cut network path, a dead address, a refusing server, a slow reader.</summary>
[Collection(ClientLibraryCollection.Name)]
public sealed class ChannelConnectionTests(ClientLibraryFixture silo)
{
    private static readonly ReconnectPolicy Quick = new() { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100) };

    [Fact]
    public async Task Cut_connections_lose_nothing_and_repeat_nothing()
    {
        await using var cutter = new TcpCutter(new Uri(silo.Address));
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "webchat",
            Addresses = [cutter.Address],
            Reconnect = new ReconnectPolicy { MaxAttempts = 20, InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        // Five customers, each reading their own conversation while they write to it.
        var customers = Enumerable.Range(0, 5).Select(i => (Thread: Addresses.Unique("thread"), Customer: Addresses.Customer(Addresses.Unique("c")))).ToArray();
        var conversations = new string[customers.Length];
        var readers = new Task<List<TimelineEntry>>[customers.Length];
        for (var i = 0; i < customers.Length; i++)
        {
            var ack = await connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForThread(customers[i].Thread), "Hello", customers[i].Customer, timeout.Token);
            conversations[i] = ack.EnsureStored().ConversationId;
            readers[i] = ReadUntilClosedAsync(connection, conversations[i], timeout.Token);
        }

        // Messages go out while the path is cut three times; each is acknowledged (stored) once.
        var sent = new List<Task<MessageAck>>();
        for (var turn = 0; turn < 6; turn++)
        {
            foreach (var conversationId in conversations)
            {
                sent.Add(connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForId(conversationId), $"How do I reset my password? ({turn})", cancellationToken: timeout.Token));
            }

            if (turn % 2 == 1)
            {
                cutter.Cut();
            }
        }

        var acks = await Task.WhenAll(sent);
        Assert.All(acks, ack => Assert.True(ack.IsStored, ack.ToString()));
        Assert.True(connection.Streams > 1, "the cuts should have forced new streams");

        foreach (var conversationId in conversations)
        {
            await connection.CloseConversationAsync(ConversationAddress.ForId(conversationId), "test over", timeout.Token);
        }

        for (var i = 0; i < conversations.Length; i++)
        {
            var read = await readers[i];
            Assert.Equal(Enumerable.Range(1, read.Count).Select(s => (ulong)s), read.Select(e => e.Sequence));
            var stored = await connection.ReadTranscriptAsync(ConversationAddress.ForId(conversations[i]), 0, timeout.Token).ToListAsync(timeout.Token);
            Assert.Equal(stored.Select(e => e.Sequence), read.Select(e => e.Sequence));

            // Every customer message once: resends after the cuts were recognised as the same message.
            Assert.Equal(7, stored.Count(e => e.Message?.Sender == SenderKind.Customer));
        }
    }

    [Fact]
    public async Task A_reader_that_does_not_read_holds_up_no_ack_and_gets_everything_later()
    {
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "webchat",
            GrpcChannels = [silo.Channel],
            ReadBufferCapacity = 2,
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var first = await connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForThread(Addresses.Unique("t")), "Hi", Addresses.Customer(Addresses.Unique("c")), timeout.Token);
        var conversation = ConversationAddress.ForId(first.ConversationId);
        await using var reader = connection.ReadConversationAsync(first.ConversationId, 0, timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await reader.MoveNextAsync());
        var read = new List<ulong> { reader.Current.Sequence };

        // 15 more turns (a customer message and the bot's answer each), while the reader sleeps.
        for (var turn = 0; turn < 15; turn++)
        {
            (await connection.SendAsync(Addresses.Unique("m"), conversation, "What are your opening hours?", cancellationToken: timeout.Token)).EnsureStored();
        }

        var last = (await connection.GetConversationAsync(conversation, timeout.Token)).LastSequence;
        while (read[^1] < last)
        {
            Assert.True(await reader.MoveNextAsync());
            read.Add(reader.Current.Sequence);
        }

        Assert.Equal(Enumerable.Range(1, (int)last).Select(s => (ulong)s), read);
        await connection.CloseConversationAsync(conversation, "test over", timeout.Token); // fifteen repeats may have queued it for a human
    }

    [Fact]
    public async Task A_dead_address_fails_sends_and_readers_after_the_policy_s_attempts()
    {
        var changes = new List<ConnectionStateChange>();
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "webchat",
            Addresses = [$"http://127.0.0.1:{FreePort()}"],
            Reconnect = Quick,
            OnStateChange = change => { lock (changes) { changes.Add(change); } },
        });

        var failure = await Assert.ThrowsAsync<ConnectionFailedException>(() =>
            connection.SendAsync("m1", ConversationAddress.ForThread("t1"), "Hello", Addresses.Customer("c1")));
        Assert.Equal(StatusCode.Unavailable, failure.Status.StatusCode);
        Assert.Contains("3 attempts", failure.Message);
        Assert.Equal(ConnectionState.Failed, connection.State.State);
        lock (changes)
        {
            Assert.Equal(3, changes.Count(c => c.State == ConnectionState.Reconnecting));
        }

        await Assert.ThrowsAsync<ConnectionFailedException>(async () =>
        {
            await foreach (var _ in connection.ReadAllAsync())
            {
            }
        });
    }

    [Fact]
    public async Task A_server_that_always_answers_unavailable_is_tried_a_bounded_number_of_times()
    {
        await using var server = await RefusingServer.StartAsync(StatusCode.Unavailable, "shutting down");
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", Addresses = [server.Address], Reconnect = Quick });

        var failure = await Assert.ThrowsAsync<ConnectionFailedException>(() =>
            connection.SendAsync("m1", ConversationAddress.ForThread("t1"), "Hello", Addresses.Customer("c1")));
        Assert.Equal("shutting down", failure.Status.Detail);
        Assert.Equal(Quick.MaxAttempts + 1, server.Calls);
    }

    [Fact]
    public async Task A_silo_that_accepts_but_never_answers_times_the_message_out_and_the_connection_stays_usable()
    {
        await using var server = await RefusingServer.StartSilentAsync();
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "webchat",
            Addresses = [server.Address],
            AckTimeout = TimeSpan.FromMilliseconds(300),
        });

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() =>
            connection.SendAsync("m1", ConversationAddress.ForThread("t1"), "Hello", Addresses.Customer("c1")));
        Assert.Contains("'m1'", timeout.Message);

        // The same id may be sent again (the first try is no longer waiting).
        await Assert.ThrowsAsync<TimeoutException>(() =>
            connection.SendAsync("m1", ConversationAddress.ForThread("t1"), "Hello", Addresses.Customer("c1")));
        Assert.Equal(ConnectionState.Connected, connection.State.State);
    }

    [Fact]
    public async Task A_refusal_fails_the_connection_at_once_without_retrying()
    {
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "Web Chat!", GrpcChannels = [silo.Channel], Reconnect = Quick });

        var failure = await Assert.ThrowsAsync<ConnectionFailedException>(() =>
            connection.SendAsync("m1", ConversationAddress.ForThread("t1"), "Hello", Addresses.Customer("c1")));
        Assert.Equal(StatusCode.InvalidArgument, failure.Status.StatusCode);
        Assert.Contains("A development key names its channel", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, connection.Streams);
    }

    [Fact]
    public async Task Rejections_come_back_as_acks_and_the_stream_goes_on()
    {
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", GrpcChannels = [silo.Channel] });

        var unknown = await connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForId("no-such-conversation"), "Hello");
        Assert.Equal(AckStatus.Rejected, unknown.Status);
        Assert.Equal(StatusCode.NotFound, unknown.Code);
        Assert.Throws<RpcException>(() => unknown.EnsureStored());

        var fine = await connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForThread(Addresses.Unique("t")), "Hello", Addresses.Customer(Addresses.Unique("c")));
        Assert.Equal(AckStatus.Accepted, fine.Status);

        var again = await connection.SendAsync(fine.MessageId, ConversationAddress.ForId(fine.ConversationId), "Hello");
        Assert.Equal(AckStatus.Duplicate, again.Status);
        Assert.Equal(fine.Sequence, again.Sequence);
    }

    [Fact]
    public async Task Reading_a_conversation_that_does_not_exist_says_so()
    {
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", GrpcChannels = [silo.Channel] });
        var refusal = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in connection.ReadConversationAsync("no-such-conversation"))
            {
            }
        });
        Assert.Equal(StatusCode.NotFound, refusal.StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_read_or_a_send_leaves_the_connection_usable_and_disposal_ends_readers()
    {
        var connection = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", GrpcChannels = [silo.Channel] });
        var first = await connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForThread(Addresses.Unique("t")), "Hi", Addresses.Customer(Addresses.Unique("c")));

        using (var cancel = new CancellationTokenSource())
        {
            var reading = Task.Run(async () =>
            {
                await foreach (var _ in connection.ReadConversationAsync(first.ConversationId, 0, cancel.Token))
                {
                }
            });
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForId(first.ConversationId), "Hello?", cancellationToken: new CancellationToken(canceled: true)));
        Assert.True((await connection.SendAsync(Addresses.Unique("m"), ConversationAddress.ForId(first.ConversationId), "Still there?")).IsStored);

        // A reader waiting for the next entry ends when the connection is disposed.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = Task.Run(async () =>
        {
            var count = 0;
            await foreach (var _ in connection.ReadConversationAsync(first.ConversationId))
            {
                count++;
                started.TrySetResult();
            }

            return count;
        });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await connection.DisposeAsync();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ConnectionState.Closed, connection.State.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => connection.SendAsync("late", ConversationAddress.ForId(first.ConversationId), "Hello"));
    }

    private static async Task<List<TimelineEntry>> ReadUntilClosedAsync(ChannelConnection connection, string conversationId, CancellationToken cancellationToken)
    {
        var read = new List<TimelineEntry>();
        await foreach (var entry in connection.ReadConversationAsync(conversationId, 0, cancellationToken))
        {
            read.Add(entry);
        }

        return read;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
