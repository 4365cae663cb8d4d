#compdef confab

autoload -U is-at-least

_confab() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--jid=[Account JID (user@domain); overrides the config'\''s account]:JID:_default' \
'--password-env=[Read the password from this environment variable]:VAR:_default' \
'--server=[Connect to this host instead of the JID'\''s domain (no DNS SRV discovery)]:HOST[:PORT]:_default' \
'--resolver=[Ask this DNS server for the domain'\''s SRV records (and the targets'\'' addresses) instead of the system'\''s (resolv.conf)]:IP:PORT:_default' \
'--ca-file=[Also trust the CA certificates in this PEM file]:PEM:_files' \
'--config=[Config file (default\: config.toml in the config directory)]:FILE:_files' \
'--account=[Which account of the config file to use]:NAME:_default' \
'--search-service=[The XEP-0433 channel search service \`/search\` asks; overrides the account'\''s \`search_service\`]:JID:_default' \
'--call-service=[The A/V conference service whose rooms go with text rooms of the same name (\`/call\` of a text room calls there); overrides the account'\''s \`call_service\`]:JID:_default' \
'--batch=[Run commands from FILE (or - for stdin) without the TUI; print events as JSON lines]::FILE|-:_default' \
'--connect-timeout=[Seconds to wait for the first connection in --batch]:SECS:_default' \
'--keepalive=[Seconds of silence before a keep-alive ping; no answer within half as long (at least 1 s) means the connection is dead]:SECS:_default' \
'--ack-timeout=[Seconds an XEP-0198 ack request (or a write) may go unanswered before the connection counts as dead and is resumed]:SECS:_default' \
'--outbox-ttl=[Seconds a message may wait for the connection before it is reported as failed]:SECS:_default' \
'--self-ping=[Seconds of silence from a room before we ping ourselves in it (XEP-0410) to find out whether it silently dropped us]:SECS:_default' \
'--audio-in=[What calls send\: tone\:HZ, file\:PATH.wav, null, default (the microphone) or device\:NAME]:SPEC:_default' \
'--denoise=[Noise suppression of what calls send (RNNoise)\: auto cleans a microphone, on any source, gate also sends silence while you do not speak, off sends the input as it is (also \`/denoise\`)]:MODE:(auto on gate off)' \
'--audio-out=[Where calls play\: file\:PATH.wav, null, default (the speaker) or device\:NAME]:SPEC:_default' \
'--audio-out-dir=[Also record each received stream of a call to its own WAV in DIR, named after its entity]:DIR:_files' \
'--log-level=[How much the log tells\: off, error, warn, info (default), debug or trace (with the protocol trace, secrets masked); for confab, other crates stay at warn. Wins over RUST_LOG]:LEVEL:(off error warn info debug trace)' \
'--log-file=[Write the log to FILE (default\: confab.DATE.log in the state directory, a new file each day)]:FILE:_files' \
'--rtc-bind=[Local address for calls'\'' UDP (ICE host candidates); 0.0.0.0\:0 is every interface]:IP:PORT:_default' \
'--keep-going[In --batch, go on after a failed command]' \
'--no-history[Keep no message history on disk]' \
'(--batch --check-config)--print-config[Print the resolved configuration (the config file, these options, the defaults) as TOML, passwords masked, and exit]' \
'(--batch)--check-config[Check the configuration and exit\: "OK\: FILE" (status 0), or the error with its file\:line (status 2)]' \
'--debug-xml[Show the stanzas in and out from the start, secrets masked (TUI\: the XML console; --batch\: xml events), like /xmlconsole on]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_confab_commands" \
"*::: :->confab" \
&& ret=0
    case $state in
    (confab)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:confab-command-$line[1]:"
        case $line[1] in
            (completions)
_arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_confab__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:confab-help-command-$line[1]:"
        case $line[1] in
            (completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_confab_commands] )) ||
_confab_commands() {
    local commands; commands=(
'completions:Print the completion script for SHELL' \
'man:Print the man page (roff)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'confab commands' commands "$@"
}
(( $+functions[_confab__subcmd__completions_commands] )) ||
_confab__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'confab completions commands' commands "$@"
}
(( $+functions[_confab__subcmd__help_commands] )) ||
_confab__subcmd__help_commands() {
    local commands; commands=(
'completions:Print the completion script for SHELL' \
'man:Print the man page (roff)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'confab help commands' commands "$@"
}
(( $+functions[_confab__subcmd__help__subcmd__completions_commands] )) ||
_confab__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'confab help completions commands' commands "$@"
}
(( $+functions[_confab__subcmd__help__subcmd__help_commands] )) ||
_confab__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'confab help help commands' commands "$@"
}
(( $+functions[_confab__subcmd__help__subcmd__man_commands] )) ||
_confab__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'confab help man commands' commands "$@"
}
(( $+functions[_confab__subcmd__man_commands] )) ||
_confab__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'confab man commands' commands "$@"
}

if [ "$funcstack[1]" = "_confab" ]; then
    _confab "$@"
else
    compdef _confab confab
fi
