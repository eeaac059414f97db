# conveyor_warnings(<target>): the project's warning set, as errors when CONVEYOR_WERROR is on.
# Applied per target so that consumers of the installed package inherit none of it.
function(conveyor_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
    $<$<BOOL:${CONVEYOR_WERROR}>:-Werror>)
endfunction()
