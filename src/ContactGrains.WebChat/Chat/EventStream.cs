using System.Globalization;
using System.Text;
using System.Text.Json;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Cluster;
using ContactGrains.WebChat.Hosting;
using ContactGrains.WebChat.Sessions;
using Grpc.Core;

namespace ContactGrains.WebChat.Chat;

/// <summary>
/// One browser's server-sent event stream: the visitor's conversation so far (its transcript), then
/// its live entries, each once and in order, the event id being "conversationId:sequence". A
/// browser that reconnects sends the last id it received (Last-Event-ID, or <c>?after=</c> for a new
/// EventSource) and gets what follows it. When the conversation closes, the stream waits for the
/// visitor's next one on the same thread.
/// </summary>
/// <remarks>
/// Trouble on the cluster side never ends the browser's stream: the shared
/// <see cref="ChannelConnection"/> reconnects and resumes on its own, and if a read fails anyway,
/// this stream starts again from the last entry it sent.
/// </remarks>
internal sealed class EventStream(
    HttpContext context,
    VisitorSessions.Visitor visitor,
    CultureInfo culture,
    ClusterLink link,
    VisitorSignals signals,
    WebChatOptions options,
    ILogger logger)
{
    private static readonly TimeSpan RetryAfterTrouble = TimeSpan.FromSeconds(1);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpResponse _response = context.Response;

    // The last entry sent to the browser (or that it says it has): where any restart resumes.
    private string? _conversationId;
    private ulong _sequence;
    private DateTime _lastWrite = DateTime.UtcNow;

    /// <summary>Streams until the browser goes away or the app stops.</summary>
    public async Task RunAsync(string? resumeFrom, CancellationToken cancellationToken)
    {
        if (EntryView.TryParseEventId(resumeFrom, out var conversationId, out var sequence))
        {
            (_conversationId, _sequence) = (conversationId, sequence);
        }

        _response.Headers.ContentType = "text/event-stream; charset=utf-8";
        _response.Headers.CacheControl = "no-cache, no-store, no-transform";
        _response.Headers["X-Accel-Buffering"] = "no"; // reverse proxies must pass events on at once
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();

        // The browser's reconnection delay; writing it now also tells the page the stream is open.
        await WriteAsync("retry: 1500\n\n", cancellationToken);
        var pause = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (pause)
                {
                    pause = false;
                    await Task.Delay(RetryAfterTrouble, cancellationToken);
                }

                var current = await FindConversationAsync(cancellationToken);
                if (current is null || IsFinished(current))
                {
                    // Nothing to read until the visitor writes (again): their next message starts a conversation.
                    await IdleAsync(cancellationToken);
                    continue;
                }

                await StreamAsync(current.ConversationId, cancellationToken);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or IOException or RpcException)
            {
                return; // the browser left, or the app stops
            }
            catch (IOException)
            {
                return; // the browser left before the request noticed
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.OutOfRange)
            {
                // The conversation the browser knows is gone (a development silo restarted without
                // storage): start over with the thread's current one; the page drops nothing it has.
                logger.LogInformation("Visitor {Visitor}: conversation {Conversation} cannot be resumed ({Status}); following the thread's current one.", visitor.Id, _conversationId, ex.StatusCode);
                (_conversationId, _sequence) = (null, 0);
                pause = true;
            }
            catch (Exception ex) when (ex is RpcException or ConnectionFailedException or ObjectDisposedException or TimeoutException)
            {
                logger.LogDebug(ex, "Visitor {Visitor}: reading from the cluster failed; resuming after {Conversation}:{Sequence}.", visitor.Id, _conversationId, _sequence);
                pause = true;
            }
        }
    }

    /// <summary>The visitor's thread's conversation (the latest, also when closed), or null if the visitor never wrote.</summary>
    private async Task<ConversationView?> FindConversationAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await link.Connection.GetConversationAsync(visitor.Thread, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A closed conversation whose every entry the browser already has.</summary>
    private bool IsFinished(ConversationView conversation) =>
        conversation.Status == ConversationStatus.Closed
        && string.Equals(conversation.ConversationId, _conversationId, StringComparison.Ordinal)
        && _sequence >= conversation.LastSequence;

    private async Task IdleAsync(CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + options.IdlePollInterval;
        for (var left = options.IdlePollInterval; left > TimeSpan.Zero; left = until - DateTime.UtcNow)
        {
            if (await signals.WaitAsync(visitor.Id, Min(left, options.HeartbeatInterval), cancellationToken))
            {
                return;
            }

            await HeartbeatIfDueAsync(cancellationToken);
        }
    }

    private async Task StreamAsync(string conversationId, CancellationToken cancellationToken)
    {
        // What happened so far, page by page (the unary transcript), then the live entries from there
        // on the shared stream, which resumes by itself after a reconnection.
        var after = string.Equals(conversationId, _conversationId, StringComparison.Ordinal) ? _sequence : 0;
        await foreach (var entry in link.Connection.ReadTranscriptAsync(ConversationAddress.ForId(conversationId), after, cancellationToken))
        {
            if (await SendAsync(entry, cancellationToken))
            {
                return;
            }
        }

        after = string.Equals(conversationId, _conversationId, StringComparison.Ordinal) ? _sequence : after;
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var live = link.Connection.ReadConversationAsync(conversationId, after, reading.Token).GetAsyncEnumerator(reading.Token);
        Task<bool>? next = null;
        try
        {
            while (true)
            {
                next = live.MoveNextAsync().AsTask();
                while (await Task.WhenAny(next, Task.Delay(options.HeartbeatInterval, cancellationToken)) != next)
                {
                    await HeartbeatIfDueAsync(cancellationToken);
                }

                var more = await next;
                next = null;
                if (!more || await SendAsync(live.Current, cancellationToken))
                {
                    return; // the reader ends after CLOSED
                }
            }
        }
        finally
        {
            // An iterator cannot be disposed while it is being read: stop the read and let it finish first.
            await reading.CancelAsync();
            if (next is not null)
            {
                await next.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            await live.DisposeAsync();
        }
    }

    /// <summary>Writes one entry if the browser does not have it yet; true when it was the conversation's CLOSED.</summary>
    private async Task<bool> SendAsync(TimelineEntry entry, CancellationToken cancellationToken)
    {
        var sameConversation = string.Equals(entry.ConversationId, _conversationId, StringComparison.Ordinal);
        if (sameConversation && entry.Sequence <= _sequence)
        {
            return false; // already sent (a transcript page and the live stream can overlap)
        }

        var view = EntryView.From(entry, visitor, culture);
        var frame = new StringBuilder()
            .Append("id: ").Append(view.Id).Append('\n')
            .Append("event: entry\n")
            .Append("data: ").Append(JsonSerializer.Serialize(view, Json)).Append("\n\n");
        await WriteAsync(frame.ToString(), cancellationToken);
        (_conversationId, _sequence) = (entry.ConversationId, entry.Sequence);
        return entry.Status?.Kind == StatusKind.Closed;
    }

    /// <summary>A comment when nothing was written for a heartbeat interval, so proxies do not close a quiet stream.</summary>
    private Task HeartbeatIfDueAsync(CancellationToken cancellationToken) =>
        DateTime.UtcNow - _lastWrite >= options.HeartbeatInterval ? WriteAsync(": ping\n\n", cancellationToken) : Task.CompletedTask;

    private async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        await _response.WriteAsync(text, Encoding.UTF8, cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
        _lastWrite = DateTime.UtcNow;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
