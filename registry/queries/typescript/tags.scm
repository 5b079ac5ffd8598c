; What counts as a definition in a TypeScript file, stated declaratively.
;
; The registry's extractor (src/extract.rs) finds these with a targeted tree walk because it is
; much cheaper than running this query over every file (see docs/benchmarks.md); the test
; `walk_finds_every_tags_definition` runs this query over a corpus and checks that the walk
; reports a symbol at every @name captured here. Change both together.

(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(function_signature name: (identifier) @name) @definition.function

(class_declaration name: (type_identifier) @name) @definition.class
(abstract_class_declaration name: (type_identifier) @name) @definition.class

(class_body (method_definition name: (_) @name) @definition.method)
(class_body (method_signature name: (_) @name) @definition.method)
(class_body (abstract_method_signature name: (_) @name) @definition.method)
(class_body (public_field_definition name: (_) @name) @definition.property)

(interface_declaration name: (type_identifier) @name) @definition.interface
(interface_body (property_signature name: (_) @name) @definition.property)
(interface_body (method_signature name: (_) @name) @definition.method)

(type_alias_declaration name: (type_identifier) @name) @definition.type
(type_alias_declaration value: (object_type (property_signature name: (_) @name) @definition.property))
(type_alias_declaration value: (intersection_type (object_type (property_signature name: (_) @name) @definition.property)))

(enum_declaration name: (identifier) @name) @definition.enum
(internal_module name: (_) @name) @definition.namespace

(program (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function))
(export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable))
