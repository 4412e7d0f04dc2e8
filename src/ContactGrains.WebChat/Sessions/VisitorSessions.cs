using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace ContactGrains.WebChat.Sessions;

/// <summary>
/// One browser's identity: a random visitor id, kept in a signed, HTTP-only cookie. The visitor id
/// names the customer's thread and customer on the <c>webchat</c> channel, so a reload, a second
/// tab or a restarted web chat finds the same conversation; a cookie this app did not sign is an
/// unknown session.
/// </summary>
public sealed partial class VisitorSessions(IDataProtectionProvider protection, IOptions<WebChatOptions> options)
{
    /// <summary>The session cookie.</summary>
    public const string CookieName = "cg_webchat";

    private const string Prefix = "web-";

    private readonly IDataProtector _protector = protection.CreateProtector("ContactGrains.WebChat.Visitor.v1");

    /// <summary>The visitor of a request, or null when it has no valid session cookie.</summary>
    public Visitor? Find(HttpRequest request)
    {
        if (!request.Cookies.TryGetValue(CookieName, out var cookie) || string.IsNullOrEmpty(cookie))
        {
            return null;
        }

        try
        {
            var id = _protector.Unprotect(cookie);
            return VisitorIdPattern().IsMatch(id) ? new Visitor(id) : null;
        }
        catch (CryptographicException)
        {
            return null; // signed with another key, or tampered with
        }
    }

    /// <summary>The request's visitor; a new one, with its cookie set on the response, if it had none.</summary>
    public Visitor FindOrStart(HttpContext context)
    {
        if (Find(context.Request) is { } visitor)
        {
            return visitor;
        }

        visitor = new Visitor(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        context.Response.Cookies.Append(CookieName, _protector.Protect(visitor.Id), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            IsEssential = true,
            Path = "/",
            MaxAge = options.Value.SessionLifetime,
        });
        return visitor;
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex VisitorIdPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ClientMessageIdPattern();

    /// <summary>Whether a message id chosen by the page can be used.</summary>
    public static bool IsValidClientMessageId(string? id) => id is not null && ClientMessageIdPattern().IsMatch(id);

    /// <summary>A browser's identity on the channel.</summary>
    /// <param name="Id">32 hex digits, random.</param>
    public sealed record Visitor(string Id)
    {
        /// <summary>The external thread id of the visitor's conversations.</summary>
        public string ThreadId => Prefix + Id;

        /// <summary>The external customer id of the visitor.</summary>
        public string CustomerId => Prefix + Id;

        /// <summary>The conversation address of the visitor's thread.</summary>
        public ConversationAddress Thread => ConversationAddress.ForThread(ThreadId);

        /// <summary>
        /// The channel-wide message id of a message the page named <paramref name="clientMessageId"/>:
        /// prefixed with the visitor, so two browsers can never collide, and a retried POST is stored once.
        /// </summary>
        public string MessageId(string clientMessageId) => Prefix + Id + "-" + clientMessageId;

        /// <summary>The page's own id of one of this visitor's messages, or null if it is not one.</summary>
        public string? ClientMessageId(string adapterMessageId)
        {
            var prefix = Prefix + Id + "-";
            return adapterMessageId.StartsWith(prefix, StringComparison.Ordinal) ? adapterMessageId[prefix.Length..] : null;
        }
    }
}
