using System.Globalization;
using System.Text.Json;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Cluster;
using ContactGrains.WebChat.Hosting;
using ContactGrains.WebChat.Resources;
using ContactGrains.WebChat.Sessions;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Options;

namespace ContactGrains.WebChat.Chat;

/// <summary>
/// The web chat's HTTP surface: the page (<c>GET /</c>), the visitor's live entries
/// (<c>GET /api/events</c>, server-sent events), sending (<c>POST /api/messages</c>) and ending the
/// chat (<c>POST /api/close</c>). Every refusal is a problem document with a status, a <c>code</c>
/// and a sentence in the customer's language.
/// </summary>
public static class ChatEndpoints
{
    /// <summary>The largest POST body read: a message at the cluster's limit, JSON-escaped, fits.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the endpoints.</summary>
    public static void MapChat(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", ServePage);
        app.MapGet("/api/session", CheckSession);
        app.MapGet("/api/events", StreamEvents);
        app.MapPost("/api/messages", PostMessage);
        app.MapPost("/api/close", CloseConversation);
    }

    /// <summary>What the page posts: its own id for the message (the same on a retry) and the text.</summary>
    /// <param name="Id">1 to 64 characters of A–Z, a–z, 0–9, '-' and '_'.</param>
    /// <param name="Text">What the customer wrote.</param>
    public sealed record SendRequest(string? Id, string? Text);

    /// <summary>The answer to a stored message (also to a retry of one stored before).</summary>
    /// <param name="Status">accepted, or duplicate for a retry.</param>
    /// <param name="ConversationId">The conversation that holds it.</param>
    /// <param name="Sequence">Its place there.</param>
    public sealed record SendResponse(string Status, string ConversationId, ulong Sequence);

    private static IResult ServePage(HttpContext context, VisitorSessions sessions, PageTemplate page, IOptions<WebChatOptions> options)
    {
        sessions.FindOrStart(context);
        var culture = CultureOf(context);
        if (context.Request.Query.ContainsKey("lang"))
        {
            // An explicit choice sticks for the visitor's next pages and requests.
            context.Response.Cookies.Append(
                CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = context.Request.IsHttps, MaxAge = options.Value.SessionLifetime, IsEssential = true });
        }

        context.Response.Headers.CacheControl = "no-store";
        return Results.Content(page.Render(culture, options.Value.MaxMessageLength), "text/html; charset=utf-8");
    }

    /// <summary>204 when the browser's session is known, 401 when not: the page asks after its event stream was refused.</summary>
    private static IResult CheckSession(HttpContext context, VisitorSessions sessions) =>
        sessions.Find(context.Request) is null
            ? Problem(context, StatusCodes.Status401Unauthorized, "unknown-session", "ErrorUnknownSession")
            : Results.NoContent();

    private static async Task StreamEvents(
        HttpContext context,
        VisitorSessions sessions,
        ClusterLink link,
        VisitorSignals signals,
        IOptions<WebChatOptions> options,
        ILoggerFactory loggers,
        IHostApplicationLifetime lifetime)
    {
        if (sessions.Find(context.Request) is not { } visitor)
        {
            await Problem(context, StatusCodes.Status401Unauthorized, "unknown-session", "ErrorUnknownSession").ExecuteAsync(context);
            return;
        }

        // Last-Event-ID: the browser reconnecting the same EventSource; ?after=: a new EventSource that picks up where the page is.
        var resumeFrom = context.Request.Headers["Last-Event-ID"].FirstOrDefault() is { Length: > 0 } lastEventId
            ? lastEventId
            : context.Request.Query["after"].FirstOrDefault();
        var stream = new EventStream(context, visitor, CultureOf(context), link, signals, options.Value, loggers.CreateLogger("ContactGrains.WebChat.Events"));

        // Streams never end by themselves: they end when the browser leaves or the app stops, so a stop does not wait for browsers.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        await stream.RunAsync(resumeFrom, ending.Token);
    }

    private static async Task<IResult> PostMessage(
        HttpContext context,
        VisitorSessions sessions,
        ClusterLink link,
        VisitorSignals signals,
        IOptions<WebChatOptions> options,
        ILoggerFactory loggers,
        IHostApplicationLifetime lifetime)
    {
        if (sessions.Find(context.Request) is not { } visitor)
        {
            return Problem(context, StatusCodes.Status401Unauthorized, "unknown-session", "ErrorUnknownSession");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = MaxBodyBytes; // Kestrel's default (30 MB) is far beyond any message
        }

        SendRequest? request;
        try
        {
            if (!context.Request.HasJsonContentType())
            {
                return Problem(context, StatusCodes.Status415UnsupportedMediaType, "bad-request", "ErrorBadRequest");
            }

            request = await context.Request.ReadFromJsonAsync<SendRequest>(Json, context.RequestAborted);
        }
        catch (JsonException)
        {
            return Problem(context, StatusCodes.Status400BadRequest, "bad-request", "ErrorBadRequest");
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own refusals: a body over MaxBodyBytes (413), a truncated body (400).
            return Problem(context, ex.StatusCode, "bad-request", "ErrorBadRequest");
        }

        if (!VisitorSessions.IsValidClientMessageId(request?.Id))
        {
            return Problem(context, StatusCodes.Status400BadRequest, "invalid-message-id", "ErrorMessageId");
        }

        if (string.IsNullOrWhiteSpace(request!.Text))
        {
            return Problem(context, StatusCodes.Status400BadRequest, "empty-text", "ErrorEmpty");
        }

        var max = options.Value.MaxMessageLength;
        if (request.Text.Length > max)
        {
            return Problem(context, StatusCodes.Status400BadRequest, "text-too-long", "ErrorTooLong", max);
        }

        var culture = CultureOf(context);
        var message = new InboundMessage
        {
            MessageId = visitor.MessageId(request.Id!),
            Conversation = visitor.Thread,
            Text = request.Text,
            Customer = new CustomerIdentity { ExternalCustomerId = visitor.CustomerId, Language = culture.TwoLetterISOLanguageName },
        };

        MessageAck ack;
        try
        {
            // A stopping app answers 503 at once: the page retries (with the same id) when it is back.
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            ack = await link.SendAsync(message, waiting.Token);
        }
        catch (Exception ex) when (ex is TimeoutException or ConnectionFailedException or ObjectDisposedException
            || (ex is OperationCanceledException && lifetime.ApplicationStopping.IsCancellationRequested))
        {
            // No ack could come: the page retries with the same id, which stores the message once.
            loggers.CreateLogger("ContactGrains.WebChat.Messages").LogWarning("Visitor {Visitor}: message {Message} got no ack: {Reason}", visitor.Id, request.Id, ex.Message);
            context.Response.Headers.RetryAfter = "2";
            return Problem(context, StatusCodes.Status503ServiceUnavailable, "unavailable", "ErrorUnavailable");
        }

        if (ack.IsStored)
        {
            signals.Pulse(visitor.Id);
            return Results.Ok(new SendResponse(ack.Status == AckStatus.Duplicate ? "duplicate" : "accepted", ack.ConversationId, ack.Sequence));
        }

        loggers.CreateLogger("ContactGrains.WebChat.Messages").LogWarning(
            "Visitor {Visitor}: message {Message} refused by the cluster: {Code} {Detail}", visitor.Id, request.Id, ack.Code, ack.Detail);
        return ack.Code switch
        {
            StatusCode.InvalidArgument or StatusCode.OutOfRange => Problem(context, StatusCodes.Status400BadRequest, "rejected", "ErrorRejected"),
            StatusCode.FailedPrecondition or StatusCode.NotFound => Problem(context, StatusCodes.Status409Conflict, "rejected", "ErrorRejected"),
            StatusCode.Unavailable or StatusCode.Aborted or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted
                => Unavailable(context),
            _ => Problem(context, StatusCodes.Status502BadGateway, "rejected", "ErrorRejected"),
        };
    }

    private static async Task<IResult> CloseConversation(HttpContext context, VisitorSessions sessions, ClusterLink link)
    {
        if (sessions.Find(context.Request) is not { } visitor)
        {
            return Problem(context, StatusCodes.Status401Unauthorized, "unknown-session", "ErrorUnknownSession");
        }

        try
        {
            var view = await link.Connection.CloseConversationAsync(visitor.Thread, "The customer ended the chat.", context.RequestAborted);
            return Results.Ok(new { conversationId = view.ConversationId, lastSequence = view.LastSequence });
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return Problem(context, StatusCodes.Status404NotFound, "no-conversation", "ErrorNoConversation");
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted)
        {
            return Unavailable(context);
        }
        catch (RpcException)
        {
            return Problem(context, StatusCodes.Status502BadGateway, "rejected", "ErrorRejected");
        }
        catch (Exception ex) when (ex is ConnectionFailedException or ObjectDisposedException)
        {
            return Unavailable(context);
        }
    }

    private static IResult Unavailable(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "2";
        return Problem(context, StatusCodes.Status503ServiceUnavailable, "unavailable", "ErrorUnavailable");
    }

    /// <summary>A problem document whose title is the customer-facing sentence and whose <c>code</c> a script can test.</summary>
    private static IResult Problem(HttpContext context, int status, string code, string textKey, params object[] values) =>
        Results.Problem(
            statusCode: status,
            title: WebChatText.Format(textKey, CultureOf(context), values),
            extensions: new Dictionary<string, object?> { ["code"] = code });

    /// <summary>The request's language, as chosen by the localization middleware (?lang=, the cookie, then Accept-Language).</summary>
    internal static CultureInfo CultureOf(HttpContext context) =>
        WebChatText.Supported(context.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture);
}
