using ContactGrains.Contracts;

namespace ContactGrains.Grains.Conversations;

/// <summary>The checks a customer message must pass before it is stored, wherever it enters.</summary>
public static class InboundValidation
{
    /// <summary>
    /// Returns why <paramref name="text"/> cannot be stored, or null when it can. Check text after
    /// <see cref="InboundText.Clean"/>: a message that was only control or zero-width characters is empty.
    /// </summary>
    public static string? CheckText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "text is empty: a message needs at least one visible character.";
        }

        if (!InboundText.HasVisibleCharacter(text))
        {
            return "text has no visible character (only zero-width, formatting or blank-looking characters): a message needs at least one letter, digit, punctuation mark, symbol or emoji.";
        }

        if (text.Length > ConversationLimits.MaxTextLength)
        {
            return $"text is {text.Length} characters long; the limit is {ConversationLimits.MaxTextLength}. Split it into several messages.";
        }

        return null;
    }

    /// <summary>Returns why an adapter-supplied id cannot be used, or null when it can.</summary>
    public static string? CheckId(string? id, string fieldName)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return $"{fieldName} is required.";
        }

        if (id.Length > ConversationLimits.MaxIdLength)
        {
            return $"{fieldName} is {id.Length} characters long; the limit is {ConversationLimits.MaxIdLength}.";
        }

        if (InboundText.FirstInvisibleInId(id) is { } invisible)
        {
            return $"{fieldName} contains the control or formatting character U+{invisible.Value:X4}; ids are printable text.";
        }

        return null;
    }

    /// <summary>Longest customer display name and close reason an adapter may send.</summary>
    public const int MaxNameLength = 200;
    public const int MaxReasonLength = 1000;

    /// <summary>Returns why an adapter's description of the customer cannot be stored, or null when it can.</summary>
    public static string? CheckCustomer(CustomerIdentity customer)
    {
        if (CheckId(customer.ExternalCustomerId, "customer.external_customer_id") is { } badId)
        {
            return badId;
        }

        if (customer.DisplayName is { Length: > MaxNameLength } name)
        {
            return $"customer.display_name is {name.Length} characters long; the limit is {MaxNameLength}.";
        }

        if (customer.Language is { } language && !IsLanguageTag(language))
        {
            return $"customer.language '{Shorten(language)}' is not a language tag: use a code such as 'en', 'fr' or 'fr-CA'.";
        }

        return null;
    }

    /// <summary>Returns why a close reason cannot be stored, or null when it can.</summary>
    public static string? CheckReason(string reason) =>
        reason.Length > MaxReasonLength ? $"reason is {reason.Length} characters long; the limit is {MaxReasonLength}." : null;

    // BCP 47 shape only (letters, digits, hyphens, at most 35 characters): enough to refuse junk.
    private static bool IsLanguageTag(string value) =>
        value.Length is > 0 and <= 35 && char.IsAsciiLetter(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_');

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
